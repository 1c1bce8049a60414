import { recordedAuditKey } from '../../audit/audit-key-check.js';
import { KeystrataError } from '../../errors/keystrata-error.js';
import { AuditLog } from '../../hierarchy/audit-log.js';
import { now, type ProgressListener } from '../../hierarchy/internals.js';
import { LEASE_TTL_MS, withLease } from '../../hierarchy/rotation-lease.js';
import type { KeyStore } from '../../key-store/key-store.js';
import type { CmkRecord, KekRecord } from '../../key-store/records.js';
import { kekBindingMatches } from '../../key-wrap/kek-binding.js';
import { dropAuditKeyCopy } from './member-audit-copies.js';
import { type MemberAuditKeySync, syncMemberAuditKey } from './member-audit-sync.js';
import { encodeMemberCopies } from './member-copies.js';
import type { MemberRootKey } from './member-root-key.js';

/**
 * Options of {@link syncRootMember} and {@link removeRootMember}.
 *
 * @example
 * ```ts
 * const options: RootMemberSyncOptions = { rootKey, keyStore, member: 'dr-site', actor: 'ops@example.com', onProgress: ({ phase, done }) => console.log(phase, done) };
 * await syncRootMember(options);
 * ```
 */
export interface RootMemberSyncOptions {
  readonly rootKey: MemberRootKey;
  readonly keyStore: KeyStore;
  /** The member's name. */
  readonly member: string;
  /** Recorded as the actor of the audit record (default `keystrata`). */
  readonly actor?: string;
  readonly onProgress?: ProgressListener;
  /** Sync: write the `member` audit record even when nothing was copied (default true; the background sync after a rejoin passes false). */
  readonly recordUnchanged?: boolean;
}

/**
 * Result of {@link syncRootMember}.
 *
 * @example
 * ```ts
 * const result: RootMemberSyncResult = await syncRootMember({ rootKey, keyStore, member: 'dr-site' });
 * console.log(`${result.cmksCreated} CMK(s) created, ${result.copiesAdded} KEK copies added, ${result.copiesPresent} present`);
 * if (result.missingCmks.length > 0) console.warn(`clone the token again: ${result.missingCmks.join(', ')}`);
 * if (result.unbound > 0) console.warn(`${result.unbound} KEK(s) without a binding: run keystrata rewrap`);
 * if (result.auditKey === 'not-kept') console.warn('this trail keeps no copy of the audit key: keep a member that holds it');
 * ```
 */
export interface RootMemberSyncResult {
  readonly member: string;
  /** CMK versions created on the member (independent). */
  readonly cmksCreated: number;
  /** KEK copies wrapped under the member's CMK and stored now. */
  readonly copiesAdded: number;
  /** KEK copies it already had (a rerun after an interruption skips them). */
  readonly copiesPresent: number;
  /** Live CMK versions a cloned member lacks (clone the token again; nothing is copied for cloned members). */
  readonly missingCmks: readonly string[];
  /** KEKs without a binding, which are not copied (run `keystrata rewrap` first). */
  readonly unbound: number;
  /** Whether the member now holds the trail's audit key (independent members receive it from a stored copy). */
  readonly auditKey: MemberAuditKeySync;
}

const cmkRef = (cmk: CmkRecord) => ({ label: cmk.hsmLabel, id: cmk.hsmId });
const live = (kek: KekRecord): boolean => kek.state !== 'destroyed' && kek.wrapped !== '';

function healthyMember(options: RootMemberSyncOptions) {
  const member = options.rootKey.members.find((m) => m.name === options.member);
  if (member === undefined) throw new KeystrataError('CONFIG_INVALID', `The root has no member "${options.member}"; add it to rootKey.members first.`);
  if (member.state !== 'healthy' || member.rootKey === undefined) {
    throw new KeystrataError('HSM_UNAVAILABLE', `Member "${member.name}" is ${member.state}${member.reason ? ` (${member.reason})` : ''}; nothing was copied.`, {
      hint: 'Run `keystrata hsm members`: fix its PIN source or bring its token back, then run `keystrata hsm add-member` again.',
    });
  }
  return { ...member, rootKey: member.rootKey };
}

/** A wrapped KEK sync will not copy: audited `unwrap-failed` (as the resolver does), then KEYSTORE_TAMPERED. */
async function refuseKek(audit: AuditLog, kek: KekRecord, what: string): Promise<never> {
  await audit.recordQuietly('unwrap-failed', `kek:${kek.keyring}:v${kek.version}`, { cmkVersion: kek.cmkVersion });
  throw new KeystrataError('KEYSTORE_TAMPERED', `The wrapped KEK ${kek.keyring} v${kek.version} ${what}; it was not copied.`, {
    details: { keyring: kek.keyring, version: kek.version },
    hint: 'The key store holds a damaged, edited or foreign wrapped key: restore it from a trusted backup and check the audit trail.',
  });
}

async function keyrings(keyStore: KeyStore): Promise<string[]> {
  return [...new Set((await keyStore.listCmks()).map((c) => c.keyring))];
}

/**
 * Brings a member up to date, keyring by keyring under each keyring's lease: an independent member
 * gets every live CMK version (same label and CKA_ID) and a copy of every live KEK, unwrapped by a
 * member that holds one, its binding checked, and wrapped under the new member's CMK in process
 * memory only. Idempotent per KEK (a rerun skips the copies made), with progress in the
 * `member-sync:<name>` job row; audited as a `member` record. A cloned member is only checked.
 *
 * @example
 * ```ts
 * rootKey.addMember('dr-site', await Pkcs11RootKey.open(drOptions));
 * const { copiesAdded } = await syncRootMember({ rootKey, keyStore, member: 'dr-site' });
 * ```
 */
export async function syncRootMember(options: RootMemberSyncOptions): Promise<RootMemberSyncResult> {
  const { rootKey, keyStore } = options;
  const member = healthyMember(options);
  const audit = new AuditLog(keyStore, rootKey, options.actor ?? 'keystrata');
  const jobId = `member-sync:${member.name}`;
  const result = { member: member.name, cmksCreated: 0, copiesAdded: 0, copiesPresent: 0, missingCmks: [] as string[], unbound: 0 };
  for (const keyring of await keyrings(keyStore)) {
    await withLease(
      keyStore,
      `keyring:${keyring}`,
      `sync member "${member.name}"`,
      async (lease) => {
        const cmks = (await keyStore.listCmks(keyring)).filter((c) => c.state !== 'retired' && c.state !== 'destroyed');
        for (const cmk of cmks) {
          if (await member.rootKey.hasCmk(cmkRef(cmk))) continue;
          if (rootKey.kind === 'cloned') {
            result.missingCmks.push(`${keyring} v${cmk.version}`);
            continue;
          }
          await member.rootKey.createCmk(cmk.hsmLabel, cmk.hsmId);
          result.cmksCreated++;
        }
        if (rootKey.kind === 'cloned') return;
        const keks = (await keyStore.listKeks(keyring)).filter(live);
        for (const kek of keks) {
          const stored = Buffer.from(kek.wrapped, 'base64');
          const copies = rootKey.copies(stored);
          if (copies.has(member.name)) {
            result.copiesPresent++;
            continue;
          }
          if ((kek.binding ?? '') === '') {
            result.unbound++;
            continue;
          }
          const cmk = cmks.find((c) => c.version === kek.cmkVersion);
          if (cmk === undefined) throw new KeystrataError('KEY_NOT_FOUND', `CMK ${keyring} v${kek.cmkVersion} is missing.`);
          const key = await rootKey.unwrapKek(cmkRef(cmk), stored).catch((error: unknown) => {
            if (!KeystrataError.isInstance(error, 'CIPHERTEXT_TAMPERED')) throw error;
            return refuseKek(audit, kek, 'no member can have written it (a mechanism none offers, or a length its format does not explain)');
          });
          let copy: Buffer;
          try {
            if (!kekBindingMatches(key.exposeSecretBytes(), kek.keyring, kek.version, kek.binding!)) await refuseKek(audit, kek, 'does not match its binding');
            copy = await rootKey.wrapKekFor(member.name, cmkRef(cmk), key);
          } finally {
            key.destroy();
          }
          const wrapped = encodeMemberCopies([...[...copies].map(([name, blob]) => ({ member: name, wrapped: blob })), { member: member.name, wrapped: copy }]);
          lease.assertHeld();
          await keyStore.updateKek(keyring, kek.version, { wrapped: wrapped.toString('base64'), at: now() });
          result.copiesAdded++;
          await keyStore.putJob({ id: jobId, kind: 'member-sync', state: 'running', cursor: `${keyring}:${kek.version}`, processed: result.copiesAdded, data: '{}', updatedAt: now() });
          options.onProgress?.({ phase: `copy KEKs of keyring "${keyring}"`, done: result.copiesAdded });
        }
      },
      { waitMs: LEASE_TTL_MS },
    );
  }
  await keyStore.putJob({ id: jobId, kind: 'member-sync', state: 'done', cursor: null, processed: result.copiesAdded, data: '{}', updatedAt: now() });
  // The audit key last: a copy refused here (AUDIT_KEY_MISMATCH, audited) leaves the KEK copies made above in place.
  const auditKey = await syncMemberAuditKey(rootKey, keyStore, member, audit);
  const { missingCmks, ...counts } = result;
  if (options.recordUnchanged !== false || result.cmksCreated + result.copiesAdded > 0 || auditKey === 'imported') {
    await audit.record('member', `member:${member.name}`, { action: 'sync', ...counts, missingCmks: missingCmks.length, auditKey });
  }
  return { ...result, auditKey };
}

/** Refuses to remove the last healthy member that holds the audit key the trail recorded (nothing could MAC the trail after). */
async function assertAuditKeyKept(rootKey: MemberRootKey, keyStore: KeyStore, leaving: string): Promise<void> {
  const recorded = recordedAuditKey((await keyStore.listAudit(0, 1))[0]);
  if (recorded === undefined) return;
  for (const other of rootKey.members) {
    if (other.name === leaving || other.state !== 'healthy' || other.rootKey?.auditKeyIdentity === undefined) continue;
    if ((await other.rootKey.auditKeyIdentity(recorded.id).catch(() => undefined))?.checkValue === recorded.checkValue) return;
  }
  throw new KeystrataError('KEY_IN_USE', `Member "${leaving}" is the last healthy member holding the audit key; nothing was removed.`, {
    hint: 'Run `keystrata hsm add-member` for another member first (it receives the audit key from its stored copy), or bring back a member that holds it (docs/hsm-cluster.md).',
  });
}

/**
 * Removes a member: its KEK copies are deleted from the key store (refused for a KEK whose only
 * copy it holds, and when it is the last healthy member holding the audit key), audited as a
 * `member` record, and the member is dropped from the root.
 *
 * @example
 * ```ts
 * const { copiesRemoved } = await removeRootMember({ rootKey, keyStore, member: 'old-hsm' });
 * ```
 */
export async function removeRootMember(options: RootMemberSyncOptions): Promise<{ readonly member: string; readonly copiesRemoved: number }> {
  const { rootKey, keyStore, member } = options;
  if (!rootKey.members.some((m) => m.name === member)) throw new KeystrataError('CONFIG_INVALID', `The root has no member "${member}".`);
  await assertAuditKeyKept(rootKey, keyStore, member);
  const audit = new AuditLog(keyStore, rootKey, options.actor ?? 'keystrata');
  let copiesRemoved = 0;
  for (const keyring of await keyrings(keyStore)) {
    await withLease(
      keyStore,
      `keyring:${keyring}`,
      `remove member "${member}"`,
      async (lease) => {
        for (const kek of (await keyStore.listKeks(keyring)).filter(live)) {
          const copies = rootKey.copies(Buffer.from(kek.wrapped, 'base64'));
          if (!copies.has(member) || rootKey.kind === 'cloned') continue;
          if (copies.size === 1) {
            throw new KeystrataError('KEY_IN_USE', `Member "${member}" holds the only copy of KEK ${keyring} v${kek.version}; run \`keystrata hsm add-member\` for another member first.`);
          }
          copies.delete(member);
          lease.assertHeld();
          await keyStore.updateKek(keyring, kek.version, { wrapped: encodeMemberCopies([...copies].map(([name, wrapped]) => ({ member: name, wrapped }))).toString('base64'), at: now() });
          copiesRemoved++;
        }
      },
      { waitMs: LEASE_TTL_MS },
    );
  }
  const auditKeyCopyRemoved = rootKey.kind === 'independent' && (await dropAuditKeyCopy(keyStore, member));
  await audit.record('member', `member:${member}`, { action: 'remove', copiesRemoved, auditKeyCopyRemoved });
  await rootKey.removeMember(member);
  return { member, copiesRemoved };
}
