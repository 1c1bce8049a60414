import { KeystrataError } from '@keystrata/core';

/**
 * Parses `--head <seq>:<mac>`: the head an earlier `audit verify` printed, kept outside the database.
 *
 * @example
 * ```ts
 * parseAuditHead('42:3q2+7w==') // { seq: 42, mac: '3q2+7w==' }
 * ```
 */
export function parseAuditHead(value: string): { seq: number; mac: string } {
  const separator = value.indexOf(':');
  const seq = Number(value.slice(0, separator));
  const mac = value.slice(separator + 1);
  if (separator < 1 || !Number.isInteger(seq) || seq < 1 || !/^[A-Za-z0-9+/]+={0,2}$/.test(mac)) {
    throw new KeystrataError('CONFIG_INVALID', '--head must be <seq>:<mac> as printed by an earlier `keystrata audit verify` (e.g. 42:3q2+7w...=).');
  }
  return { seq, mac };
}
