import { KeystrataError } from '@keystrata/core';
import type { KeystrataConfig } from './config.js';

const invalid = (file: string, what: string): KeystrataError =>
  // Names the option, never its value: a PIN pasted into the wrong place must not reach a terminal or a log.
  new KeystrataError('CONFIG_INVALID', `${file}: ${what} (the value is not shown).`, { hint: 'Fix the named option in the config file; see `keystrata --help` and the CLI README.' });

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function checkString(file: string, value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) throw invalid(file, `${name} must be a non-empty string`);
}

function checkPin(file: string, pin: unknown): void {
  if (pin === undefined) return;
  const keys = isObject(pin) ? Object.keys(pin) : [];
  const one = keys.length === 1 && (keys[0] === 'env' || keys[0] === 'file') && typeof (pin as Record<string, unknown>)[keys[0]] === 'string';
  if (!one) throw invalid(file, 'hsm.pin must be { "env": "VARIABLE_NAME" } or { "file": "path/to/pin" }, never the PIN itself');
}

/**
 * Checks the shape of a parsed `keystrata.config.json` once, when it is loaded: a wrong option is
 * `CONFIG_INVALID` naming the option, and the message never quotes a value (it could be a PIN).
 *
 * @example
 * ```ts
 * checkConfig('keystrata.config.json', { hsm: { pin: '1234' } }); // throws CONFIG_INVALID naming hsm.pin
 * ```
 */
export function checkConfig(file: string, raw: unknown): asserts raw is KeystrataConfig {
  if (!isObject(raw)) throw invalid(file, 'the file must hold one JSON object');
  const { hsm, keyStore, keyring, cache } = raw;
  if (hsm !== undefined) {
    if (!isObject(hsm)) throw invalid(file, 'hsm must be an object');
    for (const name of ['module', 'tokenLabel', 'softhsm2Conf'] as const) checkString(file, hsm[name], `hsm.${name}`);
    if (hsm.slotIndex !== undefined && !(Number.isInteger(hsm.slotIndex) && (hsm.slotIndex as number) >= 0)) throw invalid(file, 'hsm.slotIndex must be an integer ≥ 0');
    checkPin(file, hsm.pin);
  }
  if (keyStore !== undefined) {
    if (!isObject(keyStore)) throw invalid(file, 'keyStore must be an object');
    checkString(file, keyStore.url, 'keyStore.url');
    checkString(file, keyStore.prefix, 'keyStore.prefix');
    checkString(file, keyStore.schema, 'keyStore.schema');
  }
  checkString(file, keyring, 'keyring');
  checkString(file, raw.cmkLabelPrefix, 'cmkLabelPrefix');
  if (cache !== undefined) {
    if (!isObject(cache)) throw invalid(file, 'cache must be an object');
    for (const name of ['maxEntries', 'maxAgeMs', 'maxUses'] as const) {
      if (cache[name] !== undefined && !(Number.isInteger(cache[name]) && (cache[name] as number) > 0)) throw invalid(file, `cache.${name} must be a positive integer`);
    }
  }
}
