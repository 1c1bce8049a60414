import { configError } from '../errors.js';
import { isNearMiss } from '@keystrata/core/adapter';

const SPELLING = "`encrypted: true` or `encrypted: { index: 'indexPath' }`";
const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/**
 * Refuses the misspellings of the `encrypted` option in one path's options (`Encrypted: true`,
 * `encrypt: true`, `encryted: …`), which Mongoose would accept silently and store in plaintext,
 * and unknown keys inside `encrypted: { … }` (only `index` exists). `encrypt` with an object is
 * MongoDB's own client-side encryption (with the schema's `encryptionType`) and passes.
 *
 * @example
 * ```ts
 * checkMarkerSpelling('ssn', { type: String, Encrypted: true }); // throws CONFIG_INVALID naming `encrypted: true`
 * ```
 */
export function checkMarkerSpelling(path: string, options: Record<string, unknown> | undefined): void {
  for (const [key, value] of Object.entries(options ?? {})) {
    if (key === 'encrypted' || value === false || value === undefined || !isNearMiss(key, 'encrypted')) continue;
    if (key === 'encrypt' && isPlainObject(value)) continue; // MongoDB CSFLE / Queryable Encryption
    throw configError(`${path} has the option "${key}", which Keystrata does not read (the path would be stored in plaintext): write ${SPELLING}.`);
  }
  const marker = options?.encrypted;
  if (marker === undefined || typeof marker === 'boolean') return;
  if (!isPlainObject(marker)) throw configError(`${path}: encrypted must be true, false or { index: 'indexPath' }; write ${SPELLING}.`);
  for (const key of Object.keys(marker)) {
    if (key === 'index') continue;
    const guess = isNearMiss(key, 'index') ? ' (did you mean "index"?)' : '';
    throw configError(`${path}: encrypted has no option "${key}"${guess}; its only option is "index" (the DEK segment comes from the plugin's segment option): write ${SPELLING}.`);
  }
}

/**
 * True when an element or value definition (inside an array or Map) carries a misspelt marker:
 * a key close to `encrypted` set to `true` or to an options object.
 *
 * @example
 * ```ts
 * misspeltInside({ type: String, Encrypted: true }); // true
 * ```
 */
export function misspeltInside(record: Record<string, unknown>): boolean {
  return Object.entries(record).some(([key, value]) => key !== 'encrypted' && isNearMiss(key, 'encrypted') && (value === true || (isPlainObject(value) && !('type' in value) && key !== 'encrypt')));
}
