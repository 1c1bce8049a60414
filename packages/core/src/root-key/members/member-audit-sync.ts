import { timingSafeEqual } from 'node:crypto';
import { auditDigest } from '../../audit/audit-chain.js';
import { recordedAuditKey, recordedAuditKeyCopies, recordedStoreId } from '../../audit/audit-key-check.js';
import { KeystrataError } from '../../errors/keystrata-error.js';
import type { AuditLog } from '../../hierarchy/audit-log.js';
import { LEASE_TTL_MS, withLease } from '../../hierarchy/rotation-lease.js';
import type { KeyStore } from '../../key-store/key-store.js';
import type { AuditRecord } from '../../key-store/records.js';
import type { SecretKey } from '../../secret/secret-key.js';
import type { AuditKeyIdentity, RootKey } from '../root-key.js';
import { auditKeyCheckValue, loadAuditKeyCopies, sameCheckValue, saveAuditKeyCopies, wrapAuditKeyOn } from './member-audit-copies.js';
import { encodeMemberCopies } from './member-copies.js';
import type { MemberRootKey } from './member-root-key.js';

/**
 * What {@link syncMemberAuditKey} did: `imported` (the member received the audit key now), `present`
 * (it held it; its wrapped copy is stored), `not-kept` (the trail started before the key store kept
 * copies of the audit key: it cannot be given to this member), `no-trail`, `cloned` (the vendor's
 * cloning copies it).
 */
export type MemberAuditKeySync = 'imported' | 'present' | 'not-kept' | 'no-trail' | 'cloned';

/** Codes after which the stored copy is refused and the refusal recorded (a copy someone edited or replaced). */
const REFUSED = new Set(['AUDIT_KEY_MISMATCH', 'CIPHERTEXT_TAMPERED', 'KEYSTORE_TAMPERED']);

const refusal = (member: string): KeystrataError =>
  new KeystrataError(
    'AUDIT_KEY_MISMATCH',
    `The stored copy of the audit key does not have the key check value the audit trail recorded: it was replaced in the key store. Member "${member}" was not given it; nothing was imported.`,
    { hint: 'Restore the key store from a trusted backup and check the audit trail; the members that hold the audit key keep MACing it (docs/hsm-cluster.md, "Audit MAC across members").' },
  );

const tamperedCopies = (member: string, cause: KeystrataError): KeystrataError =>
  new KeystrataError(
    'KEYSTORE_TAMPERED',
    `The stored copies of the audit key are damaged, edited or foreign (no member can have written them). Member "${member}" was not given the audit key; nothing was imported.`,
    {
      cause,
      hint: 'Restore the key store from a trusted backup and check the audit trail (docs/hsm-cluster.md, "Audit MAC across members").',
    },
  );

const deletedCopies = (member: string): KeystrataError =>
  new KeystrataError(
    'KEYSTORE_TAMPERED',
    `The key store lost the stored copies of the audit key that the start of the audit trail says it keeps (the row was deleted). Member "${member}" was not given the audit key.`,
    {
      hint: 'Restore the key store from a trusted backup (backups carry the copies); the members that hold the audit key keep MACing the trail.',
    },
  );

/**
 * Before its check value is trusted, the first record must be record 1 and verify under the key it
 * names, MACed by a member holding that key, and every healthy member must hold that key or none
 * (`auditKeyIdentity`). An edited first record naming a key planted on one member is AUDIT_KEY_MISMATCH.
 */
async function assertTrustedStart(rootKey: MemberRootKey, first: AuditRecord, recorded: AuditKeyIdentity): Promise<void> {
  await rootKey.auditKeyIdentity(recorded.id);
  const expected = first.seq === 1 && first.prevMac === '' ? await rootKey.auditMac(auditDigest(first.seq, first.prevMac, first, recordedStoreId(first)), recorded) : undefined;
  const actual = Buffer.from(first.mac, 'base64');
  if (expected === undefined || expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new KeystrataError('AUDIT_KEY_MISMATCH', 'The first audit record (which names the audit key) does not verify under the key it names: it was edited. No member was given an audit key.', {
      hint: 'Check the audit trail (`keystrata audit verify` against a head saved outside the database) and restore the key store from a trusted backup.',
    });
  }
}

/** Records a refused stored copy (an edited or replaced row) as a `member` record, then rethrows. */
async function refused(error: unknown, member: string, audit: Pick<AuditLog, 'record'>): Promise<never> {
  if (KeystrataError.isInstance(error) && REFUSED.has(error.code)) await audit.record('member', `member:${member}`, { action: 'audit-key', result: 'refused', code: error.code });
  throw error;
}

async function holdsRecordedKey(rootKey: RootKey, recorded: AuditKeyIdentity): Promise<boolean> {
  return (await rootKey.auditKeyIdentity?.(recorded.id))?.checkValue === recorded.checkValue;
}

/**
 * Gives an independent member the audit key the trail recorded, under the `audit-key` lease: a
 * member holding a stored copy unwraps it (process memory only), its key check value is compared
 * with the one the MACed start of the trail recorded (a copy planted in the key store is refused
 * with `AUDIT_KEY_MISMATCH`, audited, and nothing is imported), then the key is imported into the
 * member, wrapped under its audit-wrap CMK, stored as its copy, and zero-filled.
 *
 * @example
 * ```ts
 * const auditKey = await syncMemberAuditKey(rootKey, keyStore, { name: 'dr-site', rootKey: drSite }, audit);
 * ```
 */
export async function syncMemberAuditKey(
  rootKey: MemberRootKey,
  keyStore: KeyStore,
  member: { readonly name: string; readonly rootKey: RootKey },
  audit: Pick<AuditLog, 'record'>,
): Promise<MemberAuditKeySync> {
  if (rootKey.kind === 'cloned') return 'cloned';
  const [first] = await keyStore.listAudit(0, 1);
  const recorded = recordedAuditKey(first);
  if (recorded === undefined || recorded.id === '') return 'no-trail';
  await assertTrustedStart(rootKey, first!, recorded).catch((error: unknown) => refused(error, member.name, audit));
  return withLease(
    keyStore,
    'audit-key',
    `give member "${member.name}" the audit key`,
    async (lease) => {
      const kept = await loadAuditKeyCopies(keyStore).catch((error: unknown) => refused(error, member.name, audit));
      const holds = await holdsRecordedKey(member.rootKey, recorded);
      // A trail whose MACed first record says copies were kept never legitimately loses the row: it was deleted.
      if (kept === undefined && recordedAuditKeyCopies(first)) return refused(deletedCopies(member.name), member.name, audit);
      if (kept === undefined) return holds ? 'present' : 'not-kept';
      if (holds && kept.copies.some((copy) => copy.member === member.name)) return 'present';
      let wrapped: Buffer;
      try {
        const material: SecretKey = await rootKey.unwrapKek(kept.cmk, encodeMemberCopies(kept.copies)).catch((error: unknown) => {
          // No member could have written these copies (a mechanism none offers, a length its format does not explain): an edited row.
          if (KeystrataError.isInstance(error, 'CIPHERTEXT_TAMPERED')) throw tamperedCopies(member.name, error);
          if (!KeystrataError.isInstance(error, 'HSM_UNAVAILABLE')) throw error;
          throw new KeystrataError(
            'HSM_UNAVAILABLE',
            `No member holding a copy of the audit key (${kept.copies.map((copy) => copy.member).join(', ')}) is available, so member "${member.name}" did not receive it.`,
            {
              hint: 'Bring back a member that holds a copy (`keystrata hsm members`), then run `keystrata hsm add-member` again; its KEK copies are kept.',
            },
          );
        });
        try {
          if (!sameCheckValue(auditKeyCheckValue(material), recorded.checkValue)) throw refusal(member.name);
          if (!holds) {
            if (member.rootKey.importAuditKey === undefined) throw new KeystrataError('HSM_MODULE_INCOMPATIBLE', `Member "${member.name}" cannot receive the audit key.`);
            await member.rootKey.importAuditKey(recorded.id, material);
          }
          wrapped = await wrapAuditKeyOn(member.rootKey, kept.cmk, material);
        } finally {
          material.destroy();
        }
      } catch (error) {
        return refused(error, member.name, audit);
      }
      // A member opened without acceptImportedAuditKey refuses the imported key (HSM_OBJECT_UNSAFE): say how to open it.
      if (!(await holdsRecordedKey(member.rootKey, recorded).catch(() => false))) {
        throw new KeystrataError('AUDIT_KEY_MISMATCH', `Member "${member.name}" received the audit key but does not use it; nothing was stored.`, {
          hint: 'Open independent members with openPkcs11Members, or Pkcs11RootKey.open({ …, acceptImportedAuditKey: true }), and run the sync again.',
        });
      }
      lease.assertHeld();
      await saveAuditKeyCopies(keyStore, { ...kept, copies: [...kept.copies.filter((copy) => copy.member !== member.name), { member: member.name, wrapped }] });
      return holds ? 'present' : 'imported';
    },
    { waitMs: LEASE_TTL_MS },
  );
}
