import { createHash, timingSafeEqual } from 'node:crypto';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { CmkRecord, DekRecord, KekRecord } from '../key-store/records.js';
import type { HierarchyInternals } from '../hierarchy/internals.js';

/** Format tag of a backup file. */
export const BACKUP_FORMAT = 'keystrata-backup/1';

/** What a backup holds: wrapped keys and metadata only, never an unwrapped key. */
export interface BackupContents {
  readonly createdAt: string;
  readonly root: string;
  readonly cmks: readonly CmkRecord[];
  readonly keks: readonly KekRecord[];
  readonly deks: readonly DekRecord[];
  readonly auditHead: { readonly seq: number; readonly mac: string };
}

/** A backup file: the contents as an exact JSON string, and an HSM MAC over it. */
export interface BackupFile {
  readonly format: typeof BACKUP_FORMAT;
  readonly payload: string;
  readonly mac: string;
}

/** Counts from {@link importBackup}. */
export interface RestoreResult {
  readonly cmks: number;
  readonly keks: number;
  readonly deks: number;
  /** Records skipped because the store already has them (a destroyed key is never resurrected). */
  readonly skipped: number;
  /** CMK versions the backup names that this HSM token does not hold. */
  readonly missingInHsm: readonly string[];
}

const digest = (payload: string): Buffer => createHash('sha256').update('keystrata-backup-v1\u0000').update(payload, 'utf8').digest();

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
  const contents: BackupContents = {
    createdAt: new Date().toISOString(), root: h.rootKey.description,
    cmks: await h.keyStore.listCmks(), keks: await h.keyStore.listKeks(), deks,
    auditHead: { seq: last?.seq ?? 0, mac: last?.mac ?? '' },
  };
  const payload = JSON.stringify(contents);
  const mac = (await h.rootKey.auditMac(digest(payload))).toString('base64');
  await h.audit.record('backup', 'store', { cmks: contents.cmks.length, keks: contents.keks.length, deks: deks.length });
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
 * overwrites: a key destroyed since the backup stays destroyed.
 */
export async function importBackup(h: HierarchyInternals, file: unknown): Promise<RestoreResult> {
  const { payload, mac } = parse(file);
  const expected = await h.rootKey.auditMac(digest(payload));
  const actual = Buffer.from(mac, 'base64');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new KeystrataError('BACKUP_INVALID', 'The backup MAC does not verify: it was modified, or made with another HSM token.');
  }
  const contents = JSON.parse(payload) as BackupContents;
  const cmkKeys = new Set((await h.keyStore.listCmks()).map((c) => `${c.keyring}/${c.version}`));
  const kekKeys = new Set((await h.keyStore.listKeks()).map((k) => `${k.keyring}/${k.version}`));
  let cmks = 0, keks = 0, deks = 0, skipped = 0;
  const missingInHsm: string[] = [];
  for (const cmk of contents.cmks) {
    if (cmk.state !== 'retired' && cmk.state !== 'destroyed' && !(await h.rootKey.hasCmk({ label: cmk.hsmLabel, id: cmk.hsmId }))) missingInHsm.push(cmk.hsmLabel);
    if (cmkKeys.has(`${cmk.keyring}/${cmk.version}`)) skipped++;
    else { await h.keyStore.insertCmk(cmk); cmks++; }
  }
  for (const kek of contents.keks) {
    if (kekKeys.has(`${kek.keyring}/${kek.version}`)) skipped++;
    else { await h.keyStore.insertKek(kek); keks++; }
  }
  for (const dek of contents.deks) {
    if (await h.keyStore.insertDek(dek)) deks++;
    else skipped++;
  }
  await h.audit.record('restore', 'store', { cmks, keks, deks, skipped, backupCreatedAt: contents.createdAt });
  return { cmks, keks, deks, skipped, missingInHsm };
}
