import { randomBytes, randomFillSync, randomUUID } from 'node:crypto';
import type { IdStrategy } from '../field-map/types.js';

const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';
const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let counter = randomBytes(2).readUInt16BE(0);

// Ids are generated per row on the write path: draw their random bytes from a pool refilled 4 KiB
// at a time (as Node's randomUUID does) instead of one randomBytes call per id.
const pool = Buffer.allocUnsafe(4096);
let poolOffset = pool.length;

function pick(alphabet: string, n: number): string {
  if (poolOffset + n > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  let out = '';
  for (let i = 0; i < n; i++) out += alphabet[pool[poolOffset++]! % alphabet.length];
  return out;
}
const base36 = (n: number, width: number) => n.toString(36).padStart(width, '0').slice(-width);

function uuid7(): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(Date.now(), 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function ulid(): string {
  let time = Date.now();
  let head = '';
  for (let i = 0; i < 10; i++, time = Math.floor(time / 32)) head = CROCKFORD[time % 32] + head;
  return head + pick(CROCKFORD, 16);
}

// A cuid's fingerprint (the process id) never changes and its timestamp changes once a millisecond:
// both are formatted once, not per id (a createMany of 500 rows runs within a few milliseconds).
const PID_36 = base36(process.pid, 4);
let cuidMillis = -1;
let cuidMillis36 = '';

function cuid(): string {
  const now = Date.now();
  if (now !== cuidMillis) {
    cuidMillis = now;
    cuidMillis36 = base36(now, 8);
  }
  counter = (counter + 1) % 1_679_616;
  return `c${cuidMillis36}${base36(counter, 4)}${PID_36}${pick(BASE36, 8)}`;
}

const GENERATORS: Partial<Record<IdStrategy, () => string>> = {
  cuid,
  cuid2: () => pick('abcdefghijklmnopqrstuvwxyz', 1) + pick(BASE36, 23),
  uuid4: () => randomUUID(),
  uuid7,
  nanoid: () => pick(URL_SAFE, 21),
  ulid,
};

/**
 * Generates an id the way the schema's `@default(cuid())`, `uuid()`, `uuid(7)`, `nanoid()` or
 * `ulid()` would, so it is known (and bound into the AAD) before the row is encrypted; undefined
 * for ids only the database knows.
 *
 * @example
 * ```ts
 * generateId('uuid4'); // 'f81d4fae-7dec-41d0-a765-00a0c91e6bf6'
 * generateId('database'); // undefined
 * ```
 */
export function generateId(strategy: IdStrategy): string | undefined {
  return GENERATORS[strategy]?.();
}
