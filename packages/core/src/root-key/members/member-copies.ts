import { KeystrataError } from '../../errors/keystrata-error.js';

/** First bytes of a wrapped KEK that holds one copy per independent member: `KSMC`, then the format version. */
const MAGIC = Buffer.from('KSMC', 'latin1');
const VERSION = 1;
const MAX_COPIES = 16;
const MAX_COPY_LENGTH = 1024;

/**
 * One member's wrapped copy of a KEK (opaque: whatever that member's root key returned).
 *
 * @example
 * ```ts
 * const copies: MemberCopy[] = decodeMemberCopies(Buffer.from(kek.wrapped, 'base64'));
 * copies.map((copy) => copy.member); // ['hsm-a', 'dr-site']
 * ```
 */
export interface MemberCopy {
  readonly member: string;
  readonly wrapped: Buffer;
}

const tampered = (what: string): KeystrataError =>
  new KeystrataError('CIPHERTEXT_TAMPERED', `The wrapped KEK's member copies are malformed (${what}): its key-store entry was truncated, edited or replaced; nothing was sent to an HSM.`, {
    hint: 'The key store holds a damaged, edited or foreign wrapped key (this is not about a stored value): restore the key store from a trusted backup and check the audit trail. Nothing was decrypted with it.',
  });

/**
 * Whether `wrapped` is a container of member copies (else it is one plain wrapped KEK).
 *
 * @example
 * ```ts
 * if (!isMemberCopies(wrapped) && wrapped.length !== 40) refuse();
 * ```
 */
export function isMemberCopies(wrapped: Buffer): boolean {
  return Buffer.isBuffer(wrapped) && wrapped.length > MAGIC.length && wrapped.subarray(0, MAGIC.length).equals(MAGIC);
}

/**
 * The container of an independent root's wrapped KEK: `KSMC` ‖ u8 version (1) ‖ u8 count, then per
 * copy u8 name length ‖ member name (UTF-8) ‖ u16 copy length ‖ the member's wrapped KEK. Names are
 * unique; copies are kept in the order given.
 *
 * @example
 * ```ts
 * const stored = encodeMemberCopies([{ member: 'hsm-a', wrapped: a }, { member: 'hsm-b', wrapped: b }]);
 * ```
 */
export function encodeMemberCopies(copies: readonly MemberCopy[]): Buffer {
  if (copies.length === 0 || copies.length > MAX_COPIES) throw new KeystrataError('HSM_UNAVAILABLE', 'No member of the root could wrap the KEK.');
  const parts: Buffer[] = [MAGIC, Buffer.from([VERSION, copies.length])];
  const seen = new Set<string>();
  for (const { member, wrapped } of copies) {
    const name = Buffer.from(member, 'utf8');
    if (seen.has(member) || name.length === 0 || name.length > 255 || wrapped.length === 0 || wrapped.length > MAX_COPY_LENGTH) {
      throw new KeystrataError('CONFIG_INVALID', `Member copy "${member}" cannot be stored (duplicate, empty or too long).`);
    }
    seen.add(member);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(wrapped.length);
    parts.push(Buffer.from([name.length]), name, length, wrapped);
  }
  return Buffer.concat(parts);
}

/**
 * Parses a container made by {@link encodeMemberCopies}; anything else, a trailing byte or a
 * repeated member is `CIPHERTEXT_TAMPERED`.
 *
 * @example
 * ```ts
 * const copies = decodeMemberCopies(Buffer.from(kek.wrapped, 'base64'));
 * ```
 */
export function decodeMemberCopies(stored: Buffer): MemberCopy[] {
  if (!isMemberCopies(stored)) throw tampered('no container header');
  if (stored[MAGIC.length] !== VERSION) throw tampered(`unknown version ${stored[MAGIC.length]}`);
  const count = stored[MAGIC.length + 1] ?? 0;
  if (count === 0 || count > MAX_COPIES) throw tampered(`${count} copies`);
  const copies: MemberCopy[] = [];
  let at = MAGIC.length + 2;
  for (let i = 0; i < count; i++) {
    const nameLength = stored[at] ?? 0;
    const name = stored.subarray(at + 1, at + 1 + nameLength);
    at += 1 + nameLength;
    if (nameLength === 0 || at + 2 > stored.length) throw tampered('truncated');
    const length = stored.readUInt16BE(at);
    at += 2;
    if (length === 0 || at + length > stored.length) throw tampered('truncated');
    const member = name.toString('utf8');
    if (copies.some((copy) => copy.member === member)) throw tampered('a member twice');
    copies.push({ member, wrapped: Buffer.from(stored.subarray(at, at + length)) });
    at += length;
  }
  if (at !== stored.length) throw tampered('trailing bytes');
  return copies;
}
