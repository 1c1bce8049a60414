import { createHash, timingSafeEqual } from 'node:crypto';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { CmkRecord, DekRecord, KekRecord, TombstoneRecord } from '../key-store/records.js';
import type { HierarchyInternals } from '../hierarchy/internals.js';
import { exportAuditKeyCopies, restoreAuditKeyCopies } from '../root-key/members/member-audit-copies.js';
import { onePrimary, restoreCmk, restoreDek, restoreKek, Tombstones } from './restore-rules.js';

/** Format tag of a backup file. */
const BACKUP_FORMAT = 'keystrata-backup/1';

/** What a backup holds: wrapped keys and metadata only, never an unwrapped key. */
interface BackupContents {
  readonly createdAt: string;
  readonly root: string;
  readonly cmks: readonly CmkRecord[];
  readonly keks: readonly KekRecord[];
  readonly deks: readonly DekRecord[];
  readonly auditHead: { readonly seq: number; readonly mac: string };
  /** Destroyed keys (absent from backups made before tombstones existed). */
  readonly tombstones?: readonly TombstoneRecord[];
  /** An independent root's audit key, wrapped under each member (absent when the store keeps none, and from older backups). */
  readonly auditKeyCopies?: string;
}

/**
 * A backup file: the contents as an exact JSON string, and an HSM MAC over it.
 *
 * @example
 * ```ts
 * const file: BackupFile = await hierarchy.exportBackup(); // { format: 'keystrata-backup/1', payload, mac }
 * await writeFile('keys.backup.json', JSON.stringify(file), { mode: 0o600 });
 * ```
 */
export interface BackupFile {
  readonly format: typeof BACKUP_FORMAT;
  readonly payload: string;
  readonly mac: string;
}

/**
 * Counts from {@link importBackup}.
 *
 * @example
 * ```ts
 * const result = await hierarchy.importBackup(JSON.parse(await readFile('keys.backup.json', 'utf8')));
 * console.log(`${result.cmks} CMK, ${result.keks} KEK, ${result.deks} DEK record(s) restored; ${result.skipped} already there`);
 * if (result.missingInHsm.length > 0) console.warn('CMK versions not on this token (restored as destroyed):', result.missingInHsm);
 * ```
 */
export interface RestoreResult {
  readonly cmks: number;
  readonly keks: number;
  readonly deks: number;
  /** Records skipped because the store already has them (a destroyed key is never resurrected). */
  readonly skipped: number;
  /** CMK versions the backup names that this HSM token does not hold (restored as destroyed). */
  readonly missingInHsm: readonly string[];
  /** Keys restored as destroyed (tombstoned, or under a CMK version the HSM no longer holds). */
  readonly restoredDestroyed: number;
  /** Tombstones the store learnt from the backup. */
  readonly tombstones: number;
  /** Whether the audit key's wrapped copies were restored (the store kept none, the backup had them). */
  readonly auditKeyCopies: boolean;
}

/**
 * The bytes the HSM MACs for a backup: SHA-256 of `keystrata-backup-v1 ‖ 0 ‖ payload` (UTF-8).
 * Internal (pinned by the format vectors in test/vectors/), not exported from the package.
 *
 * @example
 * ```ts
 * const mac = await rootKey.auditMac(backupDigest(file.payload));
 * ```
 */
export const backupDigest = (payload: string): Buffer => createHash('sha256').update('keystrata-backup-v1\u0000').update(payload, 'utf8').digest();

/** Exports every wrapped key and its metadata, MACed by the HSM's audit key. */
export async function exportBackup(h: HierarchyInternals): Promise<BackupFile> {
  const deks: DekRecord[] = [];
  for (;;) {
    const page = await h.keyStore.listDeks({ limit: 1000, ...(deks.length ? { afterId: deks.at(-1)!.id } : {}) });
    deks.push(...page);
    if (page.length < 1000) break;
  }
  const audit = await h.keyStore.listAudit(0, Number.MAX_SAFE_INTEGER);
  const last = audit.at(-1);
  let contents: BackupContents = {
    createdAt: new Date().toISOString(),
    root: h.rootKey.description,
    cmks: await h.keyStore.listCmks(),
    keks: await h.keyStore.listKeks(),
    deks,
    auditHead: { seq: last?.seq ?? 0, mac: last?.mac ?? '' },
    tombstones: await h.keyStore.listTombstones(),
  };
  const auditKeyCopies = await exportAuditKeyCopies(h.keyStore);
  if (auditKeyCopies !== undefined) contents = { ...contents, auditKeyCopies };
  const payload = JSON.stringify(contents);
  const mac = (await h.rootKey.auditMac(backupDigest(payload))).toString('base64');
  await h.audit.record('backup', 'store', { cmks: contents.cmks.length, keks: contents.keks.length, deks: deks.length, tombstones: contents.tombstones!.length });
  return { format: BACKUP_FORMAT, payload, mac };
}

function parse(file: unknown): BackupFile {
  const f = file as Partial<BackupFile> | null;
  if (typeof f !== 'object' || f === null || f.format !== BACKUP_FORMAT || typeof f.payload !== 'string' || typeof f.mac !== 'string') {
    throw new KeystrataError('BACKUP_INVALID', `Not a ${BACKUP_FORMAT} file.`);
  }
  return f as BackupFile;
}

/**
 * Restores a backup after checking its MAC with this HSM. Adds what the store lacks and never
 * overwrites, and never resurrects a destroyed key, also into an empty store: the tombstones of the
 * backup and of the store are merged first; a tombstoned key, a CMK version the HSM no longer holds
 * and every KEK and DEK under such a version are restored as destroyed (wrapped blob erased).
 */
export async function importBackup(h: HierarchyInternals, file: unknown): Promise<RestoreResult> {
  const { payload, mac } = parse(file);
  const expected = await h.rootKey.auditMac(backupDigest(payload));
  const actual = Buffer.from(mac, 'base64');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new KeystrataError('BACKUP_INVALID', 'The backup MAC does not verify: it was modified, or made with another HSM token.');
  }
  const contents = JSON.parse(payload) as BackupContents;
  const tombstones = new Tombstones(await h.keyStore.listTombstones());
  let learnt = 0;
  for (const t of contents.tombstones ?? []) {
    if (tombstones.add(t)) {
      await h.keyStore.putTombstone(t);
      learnt++;
    }
  }
  const storeCmks = await h.keyStore.listCmks();
  const storeKeks = await h.keyStore.listKeks();
  const cmkKeys = new Set(storeCmks.map((c) => `${c.keyring}/${c.version}`));
  const kekKeys = new Set(storeKeks.map((k) => `${k.keyring}/${k.version}`));
  let cmks = 0,
    keks = 0,
    deks = 0,
    skipped = 0,
    restoredDestroyed = 0;
  const missingInHsm: string[] = [];
  const at = new Date().toISOString();
  // What the store already knows to be gone stays gone, whatever the backup says.
  const deadCmks = new Set(storeCmks.filter((c) => c.state === 'destroyed' || c.state === 'retired').map((c) => `${c.keyring}/${c.version}`));
  const wasKilled = (before: { state: string }, after: { state: string }) => after.state === 'destroyed' && before.state !== 'destroyed' && before.state !== 'retired';
  // One primary CMK and KEK per keyring: a backup's primary restored beside the store's becomes enabled.
  const primaryCmks = onePrimary(storeCmks, at);
  const primaryKeks = onePrimary(storeKeks, at);
  for (const backed of contents.cmks) {
    const cmk = await restoreCmk(h, backed, tombstones, at);
    if (cmk.state === 'destroyed' || cmk.state === 'retired') deadCmks.add(`${cmk.keyring}/${cmk.version}`);
    if (cmk.missingInHsm) missingInHsm.push(cmk.hsmLabel);
    if (cmkKeys.has(`${cmk.keyring}/${cmk.version}`)) {
      skipped++;
      continue;
    }
    await h.keyStore.insertCmk(primaryCmks(cmk.record));
    cmks++;
    if (wasKilled(backed, cmk)) restoredDestroyed++;
  }
  const deadKeks = new Set(storeKeks.filter((k) => k.state === 'destroyed').map((k) => `${k.keyring}/${k.version}`));
  for (const backed of contents.keks) {
    const kek = restoreKek(backed, tombstones, deadCmks, at);
    if (kek.state === 'destroyed') deadKeks.add(`${kek.keyring}/${kek.version}`);
    if (kekKeys.has(`${kek.keyring}/${kek.version}`)) {
      skipped++;
      continue;
    }
    await h.keyStore.insertKek(primaryKeks(kek));
    keks++;
    if (wasKilled(backed, kek)) restoredDestroyed++;
  }
  for (const backed of contents.deks) {
    const dek = restoreDek(backed, tombstones, deadKeks, at);
    if (await h.keyStore.insertDek(dek)) {
      deks++;
      if (wasKilled(backed, dek)) restoredDestroyed++;
    } else skipped++;
  }
  const auditKeyCopies = contents.auditKeyCopies !== undefined && (await restoreAuditKeyCopies(h.keyStore, contents.auditKeyCopies));
  await h.audit.record('restore', 'store', { cmks, keks, deks, skipped, restoredDestroyed, tombstones: learnt, auditKeyCopies, backupCreatedAt: contents.createdAt });
  return { cmks, keks, deks, skipped, missingInHsm, restoredDestroyed, tombstones: learnt, auditKeyCopies };
}
