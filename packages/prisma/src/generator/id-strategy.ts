import type { IdStrategy } from '../field-map/types.js';

const GENERATED: Readonly<Record<string, (args: readonly unknown[]) => IdStrategy>> = {
  cuid: (args) => (args[0] === 2 ? 'cuid2' : 'cuid'),
  uuid: (args) => (args[0] === 7 ? 'uuid7' : 'uuid4'),
  nanoid: () => 'nanoid',
  ulid: () => 'ulid',
};

/**
 * Maps a DMMF id default to an {@link IdStrategy}: the generator functions Keystrata can run
 * before encrypting, `client` without default, `database` for anything the database fills in.
 *
 * @example
 * ```ts
 * idStrategy({ name: 'uuid', args: [7] }); // 'uuid7'
 * idStrategy(undefined); // 'client'
 * ```
 */
export function idStrategy(fieldDefault: unknown): IdStrategy {
  if (fieldDefault === undefined) return 'client';
  const fn = fieldDefault as { name?: unknown; args?: unknown };
  if (typeof fn === 'object' && fn !== null && typeof fn.name === 'string') {
    const known = GENERATED[fn.name];
    if (known !== undefined) return known(Array.isArray(fn.args) ? fn.args : []);
  }
  return 'database';
}
