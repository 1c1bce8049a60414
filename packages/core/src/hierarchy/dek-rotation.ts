import { setTimeout as sleep } from 'node:timers/promises';
import { KeystrataError } from '../errors/keystrata-error.js';
import { envelopeDekId } from '../envelope/envelope-format.js';
import type { FieldValue } from '../envelope/value-codec.js';
import type { FieldContext } from '../envelope/field-context.js';
import type { JobRecord } from '../key-store/records.js';
import { now, type HierarchyInternals, type ProgressListener } from './internals.js';
import type { ReencryptionHook, ReencryptionRecord, ReencryptionUpdate } from './reencryption-hook.js';
import { withLease, type HeldLease } from './rotation-lease.js';

/**
 * Options of {@link rotateDek}.
 *
 * @example
 * ```ts
 * const options: DekRotationOptions = { segment: 'tenantId:acme', hook: prismaReencryptionHook(db), batchSize: 500, oldKeys: 'destroy' };
 * await hierarchy.rotateDek({ ...options, onProgress: ({ done, total }) => console.log(`${done}/${total ?? '?'}`) });
 * ```
 */
export interface DekRotationOptions {
  readonly segment: string;
  readonly keyring?: string;
  readonly hook: ReencryptionHook;
  /** Records per batch (default 200). */
  readonly batchSize?: number;
  /** What happens to the old DEK versions once no record references them any more (default `keep`). */
  readonly oldKeys?: 'keep' | 'disable' | 'destroy';
  readonly onProgress?: ProgressListener;
}

/**
 * Result of {@link rotateDek}.
 *
 * @example
 * ```ts
 * const { dekId, version, reencrypted, resumed } = await hierarchy.rotateDek({ segment: 'tenantId:acme', hook });
 * console.log(`now on DEK ${dekId} (v${version}); ${reencrypted} records re-encrypted${resumed ? ' (resumed)' : ''}`);
 * ```
 */
export interface DekRotationResult {
  readonly keyring: string;
  readonly segment: string;
  readonly dekId: string;
  readonly version: number;
  /** Records actually rewritten by the hook over the whole rotation (a lost compare-and-swap is retried, not counted). */
  readonly reencrypted: number;
  readonly resumed: boolean;
  /** Full scans of the segment after the wait for other writers; the last one found no record on an old DEK. */
  readonly verificationPasses: number;
}

/** Crypto needed by the rotation, supplied by the hierarchy. */
export interface RotationCrypto {
  decrypt(items: ReadonlyArray<{ ciphertext: string; context: FieldContext }>): Promise<FieldValue[]>;
  encrypt(items: ReadonlyArray<{ value: FieldValue; context: FieldContext }>): Promise<string[]>;
}

/** Most full verification scans before the rotation gives up (keeping the old DEKs). */
const MAX_VERIFICATION_PASSES = 10;
/** Most re-reads of one page whose compare-and-swap lost to concurrent writers. */
const MAX_PAGE_ATTEMPTS = 5;
/** Slack added to `writeRecheckMs` for a writer's seal-to-commit time. */
const WRITER_GRACE_MS = 250;

/** The data of a DEK rotation's job record (`dek-rotation:<keyring>:<segment>`). */
export interface DekRotationJobData {
  readonly version: number;
  readonly dekId?: string;
  /** Epoch ms when the new DEK became the segment's current DEK. */
  readonly switchedAt?: number;
  /** Records rewritten so far (all runs). */
  readonly reencrypted?: number;
  /** Set when the rotation's batches were handed to workers (`planDekRotation`): its finish skips the resumable first pass. */
  readonly batches?: number;
  readonly oldKeys?: 'keep' | 'disable' | 'destroy';
}

type JobData = DekRotationJobData;

/** One re-encryption run over a segment (a whole rotation, or one worker's batch). */
interface RotationRun {
  readonly h: HierarchyInternals;
  readonly crypto: RotationCrypto;
  readonly keyring: string;
  readonly segment: string;
  readonly hook: ReencryptionHook;
  readonly batchSize: number;
  readonly lease: HeldLease;
  readonly dekId: string;
  /** True for the DEK id of a field this run must re-encrypt (default: any DEK but `dekId`). */
  readonly isOldDek?: (dekId: string) => boolean;
  reencrypted: number;
}

type Run = RotationRun;

/**
 * Creates a new DEK version for a segment and re-encrypts the segment's records through the
 * adapter's hook, in batches, under the segment's rotation lease (a second rotation of the same
 * segment fails with `ROTATION_IN_PROGRESS`). The job's cursor is stored after each batch, so a
 * rerun after a crash resumes. The rotation is done only when a full scan, made after other
 * processes' writers had `writeRecheckMs` to move to the new DEK, finds no record on an old DEK;
 * only then are old DEKs disabled or destroyed (`oldKeys`).
 *
 * @example
 * ```ts
 * const result = await rotateDek(h, crypto, { segment: 'tenant:acme', hook, oldKeys: 'destroy' });
 * ```
 */
export async function rotateDek(h: HierarchyInternals, crypto: RotationCrypto, options: DekRotationOptions): Promise<DekRotationResult> {
  const keyring = options.keyring ?? h.defaultKeyring;
  const { segment } = options;
  return withLease(h.keyStore, `segment:${keyring}:${segment}`, `rotate the DEK of segment "${segment}"`, (lease) => rotateUnderLease(h, crypto, options, keyring, lease));
}

/** The job record id of a segment's DEK rotation. */
export const dekRotationJobId = (keyring: string, segment: string): string => `dek-rotation:${keyring}:${segment}`;

/**
 * Starts a segment's DEK rotation, or adopts the one already running: stores the intent, creates
 * the new DEK version, makes it the segment's primary and records `switchedAt`. Call under the
 * segment's rotation lease.
 *
 * @example
 * ```ts
 * const { job, data, resumed } = await switchToNewDek(h, 'default', 'tenant:acme', lease);
 * ```
 */
export async function switchToNewDek(h: HierarchyInternals, keyring: string, segment: string, lease: HeldLease): Promise<{ job: JobRecord; data: JobData; resumed: boolean }> {
  const jobId = dekRotationJobId(keyring, segment);
  const found = await h.keyStore.getJob(jobId);
  const resumed = found?.state === 'running';
  let job: JobRecord;
  let data: JobData;
  if (found !== undefined && resumed) {
    job = found;
    data = JSON.parse(found.data) as JobData;
  } else {
    const [latest] = await h.keyStore.loadLatestDekChains(keyring, [segment]);
    if (latest === undefined)
      throw new KeystrataError('KEY_NOT_FOUND', `Segment "${segment}" has no DEK yet; nothing to rotate.`, {
        hint: 'A segment gets its first DEK on its first encrypted write; check the segment name and keyring.',
      });
    data = { version: latest.dek.version + 1 };
    // The intent is stored before the DEK exists, so a rerun after a kill adopts the same version.
    job = { id: jobId, kind: 'dek-rotation', state: 'running', cursor: null, processed: 0, data: JSON.stringify(data), updatedAt: now() };
    await h.keyStore.putJob(job);
  }
  if (data.dekId === undefined || data.switchedAt === undefined) {
    lease.assertHeld();
    const [created] = await h.resolver.createDeks(keyring, [segment], data.version);
    const dekId = created!.dek.id;
    const old = await h.keyStore.listDeks({ keyring, segment, states: ['primary'], limit: 1000 });
    for (const dek of old) if (dek.id !== dekId) await h.keyStore.updateDek(dek.id, { state: 'enabled', at: now() });
    h.resolver.evict({ keyring, segment });
    data = { ...data, dekId, switchedAt: Date.now(), reencrypted: 0 };
    job = { ...job, data: JSON.stringify(data), updatedAt: now() };
    await h.keyStore.putJob(job);
    await h.audit.record('rotate', `segment:${keyring}:${segment}`, { dekId, version: data.version });
  }
  return { job, data, resumed };
}

async function rotateUnderLease(h: HierarchyInternals, crypto: RotationCrypto, options: DekRotationOptions, keyring: string, lease: HeldLease): Promise<DekRotationResult> {
  const { segment, hook } = options;
  const switched = await switchToNewDek(h, keyring, segment, lease);
  const { resumed } = switched;
  let { job, data } = switched;
  const run: Run = { h, crypto, keyring, segment, hook, batchSize: options.batchSize ?? 200, lease, dekId: data.dekId!, reencrypted: data.reencrypted ?? 0 };
  const save = async (change: Partial<JobRecord>): Promise<void> => {
    job = { ...job, ...change, data: JSON.stringify({ ...data, reencrypted: run.reencrypted }), updatedAt: now() };
    await h.keyStore.putJob(job);
  };

  // Pass 1: resumable, cursor saved after each batch. Skipped when workers re-encrypted the batches.
  const total = data.batches === undefined ? await hook.count?.({ keyring, segment }) : undefined;
  let { cursor, processed } = job;
  if (data.batches === undefined)
    do {
      const page = await reencryptPage(run, cursor);
      processed += page.scanned;
      cursor = page.cursor;
      await save({ cursor, processed });
      options.onProgress?.({ phase: `re-encrypt segment ${segment}`, done: processed, ...(total === undefined ? {} : { total }) });
    } while (cursor !== null);

  // Writers in other processes re-check the segment's current DEK at most every writeRecheckMs.
  const settled = data.switchedAt! + h.resolver.writeRecheckMs + WRITER_GRACE_MS;
  if (Date.now() < settled) await sleep(settled - Date.now());
  const verificationPasses = await verifyClean(run);

  const oldKeys = options.oldKeys ?? data.oldKeys ?? 'keep';
  if (oldKeys !== 'keep') {
    lease.assertHeld();
    const old = (await h.keyStore.listDeks({ keyring, segment, states: ['primary', 'enabled', 'disabled'], limit: 1000 })).filter((dek) => dek.id !== run.dekId);
    for (const dek of old) {
      const at = now();
      // A destroyed old DEK is a pending shred: its tombstone is written first (as changeKeyState
      // does), so a kill between the two never leaves a destroyed key no shred epoch covers.
      if (oldKeys === 'destroy') await h.keyStore.putTombstone({ kind: 'dek', id: dek.id, keyring, segment, destroyedAt: at, durableAt: null });
      await h.keyStore.updateDek(dek.id, { state: oldKeys === 'disable' ? 'disabled' : 'destroyed', ...(oldKeys === 'destroy' ? { wrapped: '' } : {}), at });
      h.resolver.evict({ dekId: dek.id });
    }
    if (old.length > 0) await h.audit.record(oldKeys, `segment:${keyring}:${segment}`, { deks: old.length, reason: 'rotation' });
  }
  await save({ state: 'done', cursor: null, processed });
  await h.audit.record('reencrypt', `segment:${keyring}:${segment}`, { dekId: run.dekId, version: data.version, records: processed, rewritten: run.reencrypted, resumed, verificationPasses });
  return { keyring, segment, dekId: run.dekId, version: data.version, reencrypted: run.reencrypted, resumed, verificationPasses };
}

/** Full scans (not reported as progress: the bar already reached the total) until one finds no record on an old DEK; bounded by {@link MAX_VERIFICATION_PASSES}. */
async function verifyClean(run: Run): Promise<number> {
  for (let pass = 1; pass <= MAX_VERIFICATION_PASSES; pass++) {
    let cursor: string | null = null;
    let stale = 0;
    do {
      const page = await reencryptPage(run, cursor);
      stale += page.stale;
      cursor = page.cursor;
    } while (cursor !== null);
    if (stale === 0) return pass;
  }
  throw new KeystrataError(
    'KEY_IN_USE',
    `Segment "${run.segment}" still had records on an old DEK after ${MAX_VERIFICATION_PASSES} verification passes: other processes keep writing with it (is their cache.writeRecheckMs at most this process's?). The old DEKs were kept; run the rotation again to resume.`,
    {
      details: { segment: run.segment, passes: MAX_VERIFICATION_PASSES },
    },
  );
}

/**
 * Re-encrypts the records of one page that are not on the new DEK. Records whose compare-and-swap
 * lost to a concurrent writer are re-read and re-encrypted (bounded); the verification passes
 * catch whatever is left. `stale` counts the records found on an old DEK at the first read.
 */
export async function reencryptPage(run: Run, from: string | null): Promise<{ cursor: string | null; scanned: number; stale: number }> {
  const { hook, keyring, segment } = run;
  let page = await hook.scan({ keyring, segment, cursor: from, limit: run.batchSize });
  const staleOf = (record: ReencryptionRecord): boolean => record.fields.some((f) => isOldField(run, f.ciphertext));
  const firstStale = page.records.filter(staleOf).length;
  for (let attempt = 1; attempt <= MAX_PAGE_ATTEMPTS; attempt++) {
    const stale = page.records.filter(staleOf);
    if (stale.length === 0) break;
    run.lease.assertHeld();
    const updates = await reencryptRecords(run, stale);
    const written = await hook.write(updates);
    run.reencrypted += written;
    if (written >= updates.length || attempt === MAX_PAGE_ATTEMPTS) break;
    page = await hook.scan({ keyring, segment, cursor: from, limit: run.batchSize });
  }
  return { cursor: page.cursor, scanned: page.records.length, stale: firstStale };
}

const isOldField = (run: Run, ciphertext: string): boolean => {
  const dekId = envelopeDekId(ciphertext);
  return run.isOldDek === undefined ? dekId !== run.dekId : run.isOldDek(dekId);
};

async function reencryptRecords(run: Run, records: readonly ReencryptionRecord[]): Promise<ReencryptionUpdate[]> {
  const stale = records.flatMap((r) => r.fields.filter((f) => isOldField(run, f.ciphertext)).map((f) => ({ record: r.id, ...f })));
  const values = await run.crypto.decrypt(stale);
  const next = await run.crypto.encrypt(stale.map((f, i) => ({ value: values[i]!, context: { ...f.context, segment: run.segment, keyring: run.keyring } })));
  const updates = new Map<string, ReencryptionUpdate['fields'][number][]>();
  stale.forEach((f, i) => {
    const fields = updates.get(f.record) ?? [];
    fields.push({ field: f.field, previous: f.ciphertext, next: next[i]! });
    updates.set(f.record, fields);
  });
  return [...updates].map(([id, fields]) => ({ id, fields }));
}
