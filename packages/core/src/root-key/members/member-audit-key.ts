import { randomBytes } from 'node:crypto';
import { KeystrataError } from '../../errors/keystrata-error.js';
import { SecretKey } from '../../secret/secret-key.js';
import type { AuditKeyIdentity } from '../root-key.js';
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
 * The identity of the audit key on the first healthy member that has one (undefined when none has).
 *
 * @example
 * ```ts
 * const identity = await memberAuditKeyIdentity(router, recorded?.id);
 * ```
 */
export async function memberAuditKeyIdentity(router: MemberRouter, keyId?: string): Promise<AuditKeyIdentity | undefined> {
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

/**
 * Creates the root's audit key. Cloned: in one member (the vendor clones it). Independent: made in
 * process memory and imported into every healthy member, so its check value is the same
 * everywhere; the material is zero-filled after. Docs: docs/hsm-cluster.md, "Audit MAC across members".
 *
 * @example
 * ```ts
 * const identity = await createMemberAuditKey(router, 'independent');
 * ```
 */
export async function createMemberAuditKey(router: MemberRouter, kind: MemberKind): Promise<AuditKeyIdentity> {
  if (kind === 'cloned') return router.run('create the audit key', async (rootKey) => rootKey.createAuditKey!());
  const material = SecretKey.takeOwnership(randomBytes(32));
  const id = randomBytes(16).toString('hex');
  const identities: AuditKeyIdentity[] = [];
  try {
    await router.all(
      'import the audit key',
      async (rootKey, member) => {
        if (rootKey.importAuditKey === undefined) throw new KeystrataError('HSM_MODULE_INCOMPATIBLE', `Member "${member.name}" cannot receive the audit key.`);
        identities.push(await rootKey.importAuditKey(id, material));
      },
      true,
    );
  } finally {
    material.destroy();
  }
  return identities[0]!;
}
