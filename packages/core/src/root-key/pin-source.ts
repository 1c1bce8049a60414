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
  if (pin === undefined || pin === '') throw new KeystrataError('CONFIG_INVALID', `No HSM PIN found in ${describePinSource(source)}.`);
  return pin;
}

/**
 * An environment variable name as people write them (`KEYSTRATA_HSM_PIN`: capitals, digits and at
 * least one underscore); anything else may be a PIN pasted into the wrong field and is withheld.
 */
const VARIABLE_NAME = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/;
/** A PIN file named as people name them: a directory part or an extension (`.keystrata/dev.pin`). */
const FILE_NAME = /[/\\]|\.\w+$/;

/**
 * Names a PIN source for a message without ever quoting a PIN: a variable or file name is shown
 * only when it looks like one (a PIN pasted into `env` or `file` by mistake is withheld).
 *
 * @example
 * ```ts
 * describePinSource({ env: 'KEYSTRATA_HSM_PIN' }); // 'environment variable KEYSTRATA_HSM_PIN'
 * describePinSource({ env: '1234' });              // 'the environment variable named in pin.env (name withheld: …)'
 * ```
 */
function describePinSource(source: PinSource): string {
  if (typeof source === 'function') return 'the PIN callback';
  if ('env' in source) {
    return VARIABLE_NAME.test(source.env)
      ? `environment variable ${source.env}`
      : 'the environment variable named in pin.env (name withheld: it does not look like a variable name; is a PIN there by mistake?)';
  }
  return FILE_NAME.test(source.file) ? `file ${source.file}` : 'the file named in pin.file (name withheld: it does not look like a path; is a PIN there by mistake?)';
}
