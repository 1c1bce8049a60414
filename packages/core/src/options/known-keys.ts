import { KeystrataError } from '../errors/keystrata-error.js';
import { closestKey } from './closest-key.js';

/**
 * Refuses an options object with keys outside `validNames`, naming each unknown key and the
 * closest valid one, so a typo never silently drops an option (`CONFIG_INVALID`).
 *
 * @example
 * ```ts
 * refuseUnknownKeys({ hierachy, segment }, ['hierarchy', 'segment'], 'withKeystrata options');
 * // CONFIG_INVALID: Unknown withKeystrata options key "hierachy" (did you mean "hierarchy"?). …
 * ```
 */
export function refuseUnknownKeys(options: object, validNames: readonly string[], subject: string): void {
  const unknown = Object.keys(options).filter((key) => !validNames.includes(key));
  if (unknown.length === 0) return;
  const described = unknown.map((key) => {
    const suggestion = closestKey(key, validNames);
    return suggestion === undefined ? `"${key}"` : `"${key}" (did you mean "${suggestion}"?)`;
  });
  throw new KeystrataError('CONFIG_INVALID', `Unknown ${subject} key${unknown.length > 1 ? 's' : ''} ${described.join(', ')}.`, {
    hint: `Valid keys: ${validNames.join(', ')}.`,
    details: { unknownKeys: unknown.join(',') },
  });
}
