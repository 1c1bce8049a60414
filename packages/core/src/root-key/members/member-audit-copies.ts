import { createHmac, timingSafeEqual } from 'node:crypto';
import { KeystrataError } from '../../errors/keystrata-error.js';
import { LEASE_TTL_MS, withLease } from '../../hierarchy/rotation-lease.js';
import type { KeyStore } from '../../key-store/key-store.js';
import type { SecretKey } from '../../secret/secret-key.js';
import { AUDIT_KEY_CHECK_STRING, type CmkReference, type RootKey } from '../root-key.js';
import { decodeMemberCopies, encodeMemberCopies, type MemberCopy } from './member-copies.js';

/** Label of the CMK each independent member wraps its copy of the audit key under (not a keyring's CMK: never rotated or shredded). */
export const AUDIT_WRAP_LABEL = 'keystrata-audit-wrap';
/** The key-store job row that keeps the audit key's wrapped copies. */
const AUDIT_KEY_COPIES_JOB = 'audit-key-copies';

/**
 * The audit key of an independent root as the key store keeps it: one copy per member, each wrapped
 * under that member's audit-wrap CMK (`cmk`, the same label and CKA_ID on every member) exactly like a
 * KEK copy, in the member-copies container. Nothing here is trusted: a copy is imported only when its
 * unwrapped bytes have the check value the MACed start of the trail recorded.
 */
interface AuditKeyCopies {
  /** The audit key's CKA_ID (hex), as the trail records it. */
  readonly keyId: string;
  readonly cmk: CmkReference;
  readonly copies: readonly MemberCopy[];
}

const malformed = (): KeystrataError =>
  new KeystrataError('KEYSTORE_TAMPERED', 'The stored copies of the audit key are malformed (the `audit-key-copies` job row was edited); nothing was imported.', {
    hint: 'Restore the key store from a trusted backup; the members that hold the audit key keep MACing the trail.',
  });

/**
 * The audit key's wrapped copies, or undefined when the key store keeps none (a trail started
 * before copies were kept, a cloned root, or no trail yet). A malformed row is `KEYSTORE_TAMPERED`.
 *
 * @example
 * ```ts
 * const kept = await loadAuditKeyCopies(keyStore);
 * ```
 */
export async function loadAuditKeyCopies(keyStore: KeyStore): Promise<AuditKeyCopies | undefined> {
  const job = await keyStore.getJob(AUDIT_KEY_COPIES_JOB);
  return job === undefined ? undefined : parseAuditKeyCopies(job.data);
}

function parseAuditKeyCopies(text: string): AuditKeyCopies {
  try {
    const data = JSON.parse(text) as { keyId?: unknown; cmk?: { label?: unknown; id?: unknown }; wrapped?: unknown };
    // Only the audit-wrap CMK: a row naming a keyring's CMK would make a member unwrap a KEK here (refused later by its check value, but never asked).
    if (typeof data.keyId !== 'string' || data.cmk?.label !== AUDIT_WRAP_LABEL || typeof data.cmk.id !== 'string' || typeof data.wrapped !== 'string') throw malformed();
    return { keyId: data.keyId, cmk: { label: AUDIT_WRAP_LABEL, id: data.cmk.id }, copies: decodeMemberCopies(Buffer.from(data.wrapped, 'base64')) };
  } catch {
    throw malformed();
  }
}

/**
 * Whether the key store keeps wrapped copies of audit key `keyId` (a well-formed row naming it): a
 * new trail records this in its MACed first record (`auditKeyCopies: true`).
 *
 * @example
 * ```ts
 * const details = { hsmId: identity.id, checkValue: identity.checkValue, storeId, ...((await keepsAuditKeyCopies(keyStore, identity.id)) ? { auditKeyCopies: true } : {}) };
 * ```
 */
export async function keepsAuditKeyCopies(keyStore: KeyStore, keyId: string): Promise<boolean> {
  const kept = await loadAuditKeyCopies(keyStore).catch(() => undefined);
  return kept !== undefined && kept.keyId === keyId && kept.copies.length > 0;
}

/**
 * Stores the audit key's wrapped copies (wrapped bytes only; the key itself is never written).
 *
 * @example
 * ```ts
 * await saveAuditKeyCopies(keyStore, { keyId, cmk, copies: [...kept.copies, { member: 'dr-site', wrapped }] });
 * ```
 */
export async function saveAuditKeyCopies(keyStore: KeyStore, kept: AuditKeyCopies): Promise<void> {
  const data = JSON.stringify({ keyId: kept.keyId, cmk: kept.cmk, wrapped: encodeMemberCopies(kept.copies).toString('base64') });
  await keyStore.putJob({ id: AUDIT_KEY_COPIES_JOB, kind: 'audit-key', state: 'done', cursor: null, processed: kept.copies.length, data, updatedAt: new Date().toISOString() });
}

/**
 * The key check value of audit key material held in process memory: the first 16 bytes, hex, of
 * HMAC-SHA256 over {@link AUDIT_KEY_CHECK_STRING}, as a PKCS#11 member computes it inside the token.
 *
 * @example
 * ```ts
 * if (!sameCheckValue(auditKeyCheckValue(material), recorded.checkValue)) refuse();
 * ```
 */
export function auditKeyCheckValue(material: SecretKey): string {
  return createHmac('sha256', material.exposeSecretBytes()).update(AUDIT_KEY_CHECK_STRING, 'utf8').digest().subarray(0, 16).toString('hex');
}

/**
 * Whether two check values (hex) are equal, compared in constant time.
 *
 * @example
 * ```ts
 * sameCheckValue(auditKeyCheckValue(material), recorded.checkValue);
 * ```
 */
export function sameCheckValue(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Wraps audit key material (32 bytes, in process memory) under `cmk` on one member, creating the
 * audit-wrap CMK there first when it lacks it: the member's copy, in its wrapped-KEK format.
 *
 * @example
 * ```ts
 * const wrapped = await wrapAuditKeyOn(member.rootKey, cmk, material);
 * ```
 */
export async function wrapAuditKeyOn(rootKey: RootKey, cmk: CmkReference, material: SecretKey): Promise<Buffer> {
  if (rootKey.wrapKekBytes === undefined) throw new KeystrataError('HSM_MODULE_INCOMPATIBLE', 'This member cannot wrap a copy of the audit key (it needs wrapKekBytes).');
  if (!(await rootKey.hasCmk(cmk))) await rootKey.createCmk(cmk.label, cmk.id);
  return rootKey.wrapKekBytes(cmk, material);
}

/**
 * Deletes member `name`'s copy of the audit key (a member being removed), under the `audit-key`
 * lease; true when there was one.
 *
 * @example
 * ```ts
 * await dropAuditKeyCopy(keyStore, 'old-hsm');
 * ```
 */
export async function dropAuditKeyCopy(keyStore: KeyStore, name: string): Promise<boolean> {
  return withLease(
    keyStore,
    'audit-key',
    `remove member "${name}"'s copy of the audit key`,
    async (lease) => {
      const kept = await loadAuditKeyCopies(keyStore);
      const copies = kept?.copies.filter((copy) => copy.member !== name) ?? [];
      if (kept === undefined || copies.length === kept.copies.length || copies.length === 0) return false;
      lease.assertHeld();
      await saveAuditKeyCopies(keyStore, { ...kept, copies });
      return true;
    },
    { waitMs: LEASE_TTL_MS },
  );
}

/**
 * The stored copies of the audit key as a backup carries them (the row's text: wrapped bytes only),
 * or undefined when the key store keeps none.
 *
 * @example
 * ```ts
 * const auditKeyCopies = await exportAuditKeyCopies(keyStore); // into the backup's payload
 * ```
 */
export async function exportAuditKeyCopies(keyStore: KeyStore): Promise<string | undefined> {
  return (await keyStore.getJob(AUDIT_KEY_COPIES_JOB))?.data;
}

/**
 * Restores the audit key's copies from a backup into a key store that keeps none (never over copies
 * it has); true when restored. Malformed text is `KEYSTORE_TAMPERED`. The copies stay untrusted as
 * ever: one is imported into a member only when its bytes have the trail's recorded check value.
 *
 * @example
 * ```ts
 * if (contents.auditKeyCopies !== undefined) await restoreAuditKeyCopies(keyStore, contents.auditKeyCopies);
 * ```
 */
export async function restoreAuditKeyCopies(keyStore: KeyStore, text: string): Promise<boolean> {
  const kept = parseAuditKeyCopies(text);
  if ((await keyStore.getJob(AUDIT_KEY_COPIES_JOB)) !== undefined) return false;
  await saveAuditKeyCopies(keyStore, kept);
  return true;
}
