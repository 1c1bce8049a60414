import { randomBytes } from 'node:crypto';
import { KeystrataError } from '../../errors/keystrata-error.js';
import { SecretKey } from '../../secret/secret-key.js';
import { LEASE_TTL_MS, withLease } from '../../hierarchy/rotation-lease.js';
import type { KeyStore } from '../../key-store/key-store.js';
import type { AuditKeyIdentity } from '../root-key.js';
import { AUDIT_WRAP_LABEL, saveAuditKeyCopies, wrapAuditKeyOn } from './member-audit-copies.js';
import type { MemberCopy } from './member-copies.js';
import type { MemberKind } from './member-options.js';
import type { MemberRouter } from './member-router.js';

const LACKS_AUDIT_KEY = new Set(['AUDIT_KEY_MISMATCH']);

/**
 * The audit MAC on a healthy member; a member without the recorded audit key (AUDIT_KEY_MISMATCH)
 * is skipped for this call, and the error stands only when no member has it.
 *
 * @example
 * ```ts
 * const mac = await memberAuditMac(router, digest, recorded);
 * ```
 */
export function memberAuditMac(router: MemberRouter, data: Buffer, key?: AuditKeyIdentity): Promise<Buffer> {
  return router.run('MAC an audit record', (rootKey) => rootKey.auditMac(data, key), {
    nextOnCodes: LACKS_AUDIT_KEY,
    onLacking: (member) => (member.auditKey = false),
  });
}

/**
 * The identity of the audit key `keyId` (the one a trail recorded) as the healthy members hold it,
 * or undefined when none holds it. Every healthy member must hold that key (one check value) or no
 * audit key at all (a late member, one out when the trail started): a member holding another audit
 * key instead is `AUDIT_KEY_MISMATCH`, the rule a new trail applies, so a key planted on ONE member
 * by a holder of its PIN (and named by an edited first record) is exposed by the members it could
 * not change. Independent members, asked which key a new trail would use (no `keyId`): see
 * {@link agreedAuditKey}.
 *
 * @example
 * ```ts
 * const identity = await memberAuditKeyIdentity(router, recorded?.id);
 * ```
 */
export async function memberAuditKeyIdentity(router: MemberRouter, keyId?: string, kind: MemberKind = 'cloned'): Promise<AuditKeyIdentity | undefined> {
  if (keyId === undefined && kind === 'independent') return agreedAuditKey(router);
  if (keyId !== undefined) return recordedKeyOnEveryMember(router, keyId);
  const none = new KeystrataError('AUDIT_KEY_MISMATCH', 'no audit key on this member');
  try {
    return await router.run(
      'identify the audit key',
      async (rootKey) => {
        const identity = await rootKey.auditKeyIdentity?.(keyId);
        if (identity === undefined) throw none;
        return identity;
      },
      { nextOnCodes: LACKS_AUDIT_KEY },
    );
  } catch (error) {
    if (error === none) return undefined;
    throw error;
  }
}

/** See {@link memberAuditKeyIdentity}: asks every healthy member (two identity calls at most each). */
async function recordedKeyOnEveryMember(router: MemberRouter, keyId: string): Promise<AuditKeyIdentity | undefined> {
  const held = new Map<string, AuditKeyIdentity>();
  const others: string[] = [];
  await router.all(
    'identify the audit key',
    async (rootKey, member) => {
      const identity = await rootKey.auditKeyIdentity?.(keyId);
      if (identity !== undefined) return void held.set(member.name, identity);
      const other = await rootKey.auditKeyIdentity?.();
      if (other !== undefined) others.push(`${member.name}: ${other.id}`);
    },
    true,
  );
  const values = new Set([...held.values()].map((identity) => identity.checkValue));
  if (others.length > 0 || values.size > 1) {
    const which = others.length > 0 ? `${others.join(', ')} instead of ${keyId}` : `${keyId} with ${values.size} different key check values`;
    throw new KeystrataError('AUDIT_KEY_MISMATCH', `The members do not all hold the audit key the trail recorded, or none (${which}): the key or the start of the trail was replaced.`, {
      details: { recordedId: keyId },
      hint: 'Check the audit trail against a head saved outside the database and restore the key store from a trusted backup; remove the audit key that should not be there (docs/hsm-cluster.md, "Audit MAC across members").',
    });
  }
  return [...held.values()][0];
}

/**
 * The audit key a new trail of independent members would record: every healthy member must hold
 * the same one, or none. Members that disagree (one holds a key the others lack, e.g. one planted
 * by a holder of that member's PIN, whose material could be known) are AUDIT_KEY_MISMATCH.
 */
async function agreedAuditKey(router: MemberRouter): Promise<AuditKeyIdentity | undefined> {
  const seen = new Map<string, AuditKeyIdentity | undefined>();
  await router.all('identify the audit key', async (rootKey, member) => void seen.set(member.name, await rootKey.auditKeyIdentity?.()), true);
  const distinct = new Set([...seen.values()].map((identity) => (identity === undefined ? 'none' : `${identity.id}/${identity.checkValue}`)));
  if (distinct.size > 1) {
    throw new KeystrataError(
      'AUDIT_KEY_MISMATCH',
      `The members do not hold the same audit key (${[...seen].map(([name, identity]) => `${name}: ${identity === undefined ? 'none' : identity.id}`).join(', ')}); a trail is not started on a key only some members hold.`,
      {
        hint: 'Remove the audit key from the members that should not have one (or use tokens without one), then start again; docs/hsm-cluster.md, "Audit MAC across members".',
      },
    );
  }
  return [...seen.values()][0];
}

/**
 * Creates the root's audit key. Cloned: in one member (the vendor clones it). Independent: made in
 * process memory and imported into every healthy member, so its check value is the same
 * everywhere; each member also wraps it under its audit-wrap CMK, and those copies are kept in
 * `keyStore` (when given) so a member added or back later receives it ({@link syncMemberAuditKey}).
 * The material is zero-filled after. Docs: docs/hsm-cluster.md, "Audit MAC across members".
 *
 * @example
 * ```ts
 * const identity = await createMemberAuditKey(router, 'independent', keyStore);
 * ```
 */
export async function createMemberAuditKey(router: MemberRouter, kind: MemberKind, keyStore?: KeyStore): Promise<AuditKeyIdentity> {
  if (kind === 'cloned') return router.run('create the audit key', async (rootKey) => rootKey.createAuditKey!());
  const material = SecretKey.takeOwnership(randomBytes(32));
  const id = randomBytes(16).toString('hex');
  const cmk = { label: AUDIT_WRAP_LABEL, id: randomBytes(16).toString('hex') };
  const identities: AuditKeyIdentity[] = [];
  const copies: MemberCopy[] = [];
  try {
    await router.all(
      'import the audit key',
      async (rootKey, member) => {
        if (rootKey.importAuditKey === undefined) throw new KeystrataError('HSM_MODULE_INCOMPATIBLE', `Member "${member.name}" cannot receive the audit key.`);
        identities.push(await rootKey.importAuditKey(id, material));
        if (keyStore !== undefined) copies.push({ member: member.name, wrapped: await wrapAuditKeyOn(rootKey, cmk, material) });
      },
      true,
    );
  } finally {
    material.destroy();
  }
  // Under the `audit-key` lease, and before the trail's first record is written (the caller writes it after this returns):
  // record 1 says `auditKeyCopies: true` only when this row is in place, so a crash before here leaves an honest legacy trail.
  if (keyStore !== undefined) {
    await withLease(
      keyStore,
      'audit-key',
      'store the copies of the new audit key',
      async (lease) => {
        lease.assertHeld();
        await saveAuditKeyCopies(keyStore, { keyId: id, cmk, copies });
      },
      { waitMs: LEASE_TTL_MS },
    );
  }
  return identities[0]!;
}
