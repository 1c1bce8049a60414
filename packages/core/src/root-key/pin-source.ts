import { readFile } from 'node:fs/promises';
import { KeystrataError } from '../errors/keystrata-error.js';

/**
 * Where the token PIN comes from. It is read when logging in (again after a reconnect) and not kept.
 *
 * @example
 * ```ts
 * const pin: PinSource = { env: 'KEYSTRATA_HSM_PIN' };
 * ```
 */
export type PinSource = { readonly env: string } | { readonly file: string } | (() => string | Promise<string>);

/**
 * Validates a PIN source once, at construction.
 *
 * @example
 * ```ts
 * assertPinSource({ env: 'KEYSTRATA_HSM_PIN' });
 * ```
 */
export function assertPinSource(source: unknown): asserts source is PinSource {
  if (typeof source === 'function') return;
  if (typeof source === 'object' && source !== null) {
    const s = source as Record<string, unknown>;
    if (typeof s.env === 'string' && s.env !== '') return;
    if (typeof s.file === 'string' && s.file !== '') return;
  }
  throw new KeystrataError('CONFIG_INVALID', 'pin must be { env: "VAR" }, { file: "path" } or a function returning the PIN.');
}

/**
 * Reads the PIN from its source.
 *
 * @example
 * ```ts
 * const pin = await readPin({ file: '.keystrata/dev.pin' });
 * ```
 */
export async function readPin(source: PinSource): Promise<string> {
  let pin: string | undefined;
  if (typeof source === 'function') pin = await source();
  else if ('env' in source) pin = process.env[source.env];
  else pin = (await readFile(source.file, 'utf8').catch(() => undefined))?.trim();
  if (pin === undefined || pin === '') {
    const where = typeof source === 'function' ? 'the PIN callback' : 'env' in source ? `environment variable ${source.env}` : `file ${source.file}`;
    throw new KeystrataError('CONFIG_INVALID', `No HSM PIN found in ${where}.`);
  }
  return pin;
}
