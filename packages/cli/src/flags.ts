import { KeystrataError, type KeyReference } from '@keystrata/core';
import type { CommandContext } from './context.js';

/** A string flag, or an error naming it. */
export function requireFlag(c: CommandContext, name: string): string {
  const value = c.flags[name];
  if (typeof value !== 'string' || value === '') throw new KeystrataError('CONFIG_INVALID', `--${name} is required.`);
  return value;
}

/** An optional string flag. */
export function flag(c: CommandContext, name: string): string | undefined {
  const value = c.flags[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A positive integer flag. */
export function intFlag(c: CommandContext, name: string, fallback?: number): number {
  const value = flag(c, name);
  if (value === undefined && fallback !== undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new KeystrataError('CONFIG_INVALID', `--${name} must be a positive integer.`);
  return n;
}

/** The keyring flag, or the configured/default one. */
export function keyringFlag(c: CommandContext): string | undefined {
  return flag(c, 'keyring');
}

/** The key a revoke/enable/destroy command names: `dek --segment s | --id x`, `kek --version n`, `cmk`. */
export function keyReference(c: CommandContext, kind: string | undefined): KeyReference {
  const keyring = keyringFlag(c);
  const ring = keyring === undefined ? {} : { keyring };
  switch (kind) {
    case 'dek': {
      const id = flag(c, 'id');
      if (id !== undefined) return { kind: 'dek', id };
      return { kind: 'segment', segment: requireFlag(c, 'segment'), ...ring };
    }
    case 'kek':
      return { kind: 'kek', version: intFlag(c, 'version'), ...ring };
    case 'cmk':
      return { kind: 'cmk', ...ring };
    default:
      throw new KeystrataError('CONFIG_INVALID', 'Name the key: dek (--segment <s> | --id <id>), kek (--version <n>) or cmk.');
  }
}

/**
 * Parses `model.field[#id]` into a field context.
 *
 * @example
 * ```ts
 * parseContext('Patient.ssn#p1'); // { model: 'Patient', field: 'ssn', recordId: 'p1' }
 * ```
 */
export function parseContext(text: string): { model: string; field: string; recordId?: string } {
  const match = /^([^.#]+)\.([^#]+)(?:#(.+))?$/.exec(text);
  if (match === null) throw new KeystrataError('CONFIG_INVALID', '--context must be model.field or model.field#recordId.');
  return { model: match[1]!, field: match[2]!, ...(match[3] !== undefined ? { recordId: match[3] } : {}) };
}
