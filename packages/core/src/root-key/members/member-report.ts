import { timingSafeEqual } from 'node:crypto';
import { auditDigest } from '../../audit/audit-chain.js';
import { recordedAuditKey, recordedAuditKeyCopies, recordedStoreId } from '../../audit/audit-key-check.js';
import { KeystrataError } from '../../errors/keystrata-error.js';
import type { KeyStore } from '../../key-store/key-store.js';
import type { AuditRecord } from '../../key-store/records.js';
import type { RootMemberStats } from '../root-key.js';
import { loadAuditKeyCopies } from './member-audit-copies.js';
import type { MemberRootKey } from './member-root-key.js';

/**
 * One member as `keystrata hsm members` shows it.
 *
 * @example
 * ```ts
 * for (const m of await reportRootMembers(rootKey, keyStore)) {
 *   console.log(m.name, m.state, m.description, `CMKs missing: ${m.missingCmks?.join(', ') ?? 'unknown'}`);
 *   console.log(`${m.missingCopies} KEK copies missing, audit key: ${m.auditKey ?? 'unknown'}, its stored copy: ${m.auditKeyCopy ?? 'n/a'}`);
 * }
 * ```
 */
export interface RootMemberReport extends RootMemberStats {
  readonly description: string;
  /** Live CMK versions (`keyring vN`) the member lacks; undefined when it could not be asked. */
  readonly missingCmks?: readonly string[];
  /** Live KEKs with no copy for this member (independent members; 0 for cloned). */
  readonly missingCopies: number;
  /** Whether it holds the audit key the trail recorded (undefined: could not be asked, or no trail yet). */
  readonly auditKey?: boolean;
  /**
   * Independent members with a trail: whether the key store keeps this member's wrapped copy of the
   * audit key (`stored`), lacks it (`missing`: `keystrata hsm add-member` gives it), keeps none at
   * all (`not-kept`: a trail started before copies were kept; a member added later cannot receive
   * it), or holds a row that was edited or deleted (`tampered`: malformed, naming another key, or
   * gone although the trail's MACed first record says copies were kept).
   */
  readonly auditKeyCopy?: 'stored' | 'missing' | 'not-kept' | 'tampered';
}

/** Whether the trail's first record fails its MAC under the key it names (false when no member can compute it now). */
async function firstRecordEdited(rootKey: MemberRootKey, first: AuditRecord | undefined): Promise<boolean> {
  const recorded = recordedAuditKey(first);
  if (first === undefined || recorded === undefined || recorded.id === '') return false;
  if (first.seq !== 1 || first.prevMac !== '') return true;
  const expected = await rootKey.auditMac(auditDigest(first.seq, first.prevMac, first, recordedStoreId(first)), recorded).catch(() => undefined);
  const actual = Buffer.from(first.mac, 'base64');
  return expected !== undefined && !(expected.length === actual.length && timingSafeEqual(expected, actual));
}

/** The members whose audit-key copy the key store keeps, `not-kept` for a legacy trail, or `tampered`. */
async function storedAuditKeyCopies(rootKey: MemberRootKey, keyStore: KeyStore, first: AuditRecord | undefined): Promise<Set<string> | 'not-kept' | 'tampered'> {
  // The first record's flags count only when its MAC verifies (an edit that drops `auditKeyCopies` would pass for a legacy trail).
  if (await firstRecordEdited(rootKey, first)) return 'tampered';
  let kept: Awaited<ReturnType<typeof loadAuditKeyCopies>>;
  try {
    kept = await loadAuditKeyCopies(keyStore);
  } catch (error) {
    if (KeystrataError.isInstance(error, 'KEYSTORE_TAMPERED')) return 'tampered';
    throw error;
  }
  if (kept === undefined) return recordedAuditKeyCopies(first) ? 'tampered' : 'not-kept';
  return kept.keyId === recordedAuditKey(first)?.id ? new Set(kept.copies.map((copy) => copy.member)) : 'tampered';
}

/**
 * Asks every usable member, now, which live CMK versions it lacks and whether it holds the trail's
 * audit key, and counts the KEK copies it lacks: what `keystrata hsm members` and `keystrata status`
 * print. A member with a wrong PIN or a missing CMK shows here; the root never uses it for that key.
 *
 * @example
 * ```ts
 * for (const member of await reportRootMembers(rootKey, keyStore)) console.log(member.name, member.state);
 * ```
 */
export async function reportRootMembers(rootKey: MemberRootKey, keyStore: KeyStore): Promise<RootMemberReport[]> {
  const cmks = (await keyStore.listCmks()).filter((c) => c.state !== 'retired' && c.state !== 'destroyed');
  const keks = (await keyStore.listKeks()).filter((k) => k.state !== 'destroyed' && k.wrapped !== '');
  const [first] = await keyStore.listAudit(0, 1);
  const recorded = recordedAuditKey(first);
  const stats = new Map((rootKey.stats.members ?? []).map((m) => [m.name, m]));
  const kept = recorded === undefined || rootKey.kind === 'cloned' ? undefined : await storedAuditKeyCopies(rootKey, keyStore, first);
  const reports: RootMemberReport[] = [];
  for (const member of rootKey.members) {
    let missingCmks: string[] | undefined;
    let auditKey: boolean | undefined;
    if (member.state === 'healthy' && member.rootKey !== undefined) {
      try {
        missingCmks = [];
        for (const cmk of cmks) if (!(await member.rootKey.hasCmk({ label: cmk.hsmLabel, id: cmk.hsmId }))) missingCmks.push(`${cmk.keyring} v${cmk.version}`);
        if (recorded !== undefined && member.rootKey.auditKeyIdentity !== undefined) auditKey = (await member.rootKey.auditKeyIdentity(recorded.id))?.checkValue === recorded.checkValue;
      } catch (error) {
        if (!KeystrataError.isInstance(error)) throw error;
        missingCmks = undefined;
      }
    }
    const missingCopies = rootKey.kind === 'cloned' ? 0 : keks.filter((kek) => !rootKey.copies(Buffer.from(kek.wrapped, 'base64')).has(member.name)).length;
    reports.push({
      ...stats.get(member.name)!,
      description: member.rootKey?.description ?? 'not opened',
      missingCopies,
      ...(missingCmks === undefined ? {} : { missingCmks }),
      ...(auditKey === undefined ? {} : { auditKey }),
      ...(kept === undefined ? {} : { auditKeyCopy: typeof kept === 'string' ? kept : kept.has(member.name) ? 'stored' : 'missing' }),
    });
  }
  return reports;
}
