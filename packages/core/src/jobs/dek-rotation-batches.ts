import type { FieldContext } from '../envelope/field-context.js';
import type { FieldValue } from '../envelope/value-codec.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { dekRotationJobId, reencryptPage, rotateDek, type DekRotationResult, switchToNewDek, type DekRotationJobData, type RotationCrypto } from '../hierarchy/dek-rotation.js';
import { now, type HierarchyInternals } from '../hierarchy/internals.js';
import type { ReencryptionHook } from '../hierarchy/reencryption-hook.js';
import { withLease, type HeldLease } from '../hierarchy/rotation-lease.js';

/**
 * One range of a segment for one worker: the hook's scan from cursor `from` (exclusive) up to the
 * cursor `to` that ended the range when the rotation was planned (`null`: to the end). Only
 * fields on one of `oldDekIds` are re-encrypted, so a batch that a slow worker runs late can never
 * move a record off a newer DEK.
 *
 * @example
 * ```ts
 * const { batches } = await hierarchy.dekRotationSteps.plan({ segment: 'tenant:acme', hook, batchSize: 1000 });
 * for (const batch of batches) console.log(batch.index, batch.from, batch.to); // the hook's scan cursors (null: start, end)
 * ```
 */
export interface DekRotationBatch {
  readonly keyring: string;
  readonly segment: string;
  /** The DEK the records move to. */
  readonly dekId: string;
  readonly oldDekIds: readonly string[];
  readonly from: string | null;
  readonly to: string | null;
  readonly batchSize: number;
  readonly index: number;
}

/**
 * What {@link planDekRotation} returns: the new DEK and the batches to hand to workers.
 *
 * @example
 * ```ts
 * const plan: DekRotationPlan = await hierarchy.dekRotationSteps.plan({ segment: 'tenant:acme', hook });
 * console.log(`${plan.resumed ? 'resumed' : 'started'} DEK v${plan.version} of ${plan.segment}: ${plan.batches.length} batches`);
 * ```
 */
export interface DekRotationPlan {
  readonly keyring: string;
  readonly segment: string;
  readonly dekId: string;
  readonly version: number;
  /** True when a rotation of the segment was already running and was adopted. */
  readonly resumed: boolean;
  readonly batches: readonly DekRotationBatch[];
}

/**
 * Options of {@link planDekRotation}.
 *
 * @example
 * ```ts
 * const options: DekRotationPlanOptions = { keyring: 'default', segment: 'tenant:acme', hook, batchSize: 1000, oldKeys: 'disable' };
 * await enqueueDekRotation(hierarchy, queue, options);
 * ```
 */
export interface DekRotationPlanOptions {
  readonly segment: string;
  readonly keyring?: string;
  readonly hook: ReencryptionHook;
  /** Records per batch (default 500). */
  readonly batchSize?: number;
  /** What the finish does with the old DEK versions (default `keep`). */
  readonly oldKeys?: 'keep' | 'disable' | 'destroy';
}

/**
 * What one batch did.
 *
 * @example
 * ```ts
 * const result: DekBatchResult = await hierarchy.dekRotationSteps.reencryptBatch(batch, hook);
 * if (!result.current) console.log('the rotation finished or was replaced: nothing done');
 * else console.log(`${result.rewritten} of ${result.scanned} rewritten`);
 * ```
 */
export interface DekBatchResult {
  /** False when the rotation was no longer running with this batch's DEK (finished, or a newer one started): nothing was done. */
  readonly current: boolean;
  readonly scanned: number;
  readonly rewritten: number;
}

/** A batch scans past its planned end by at most this many pages (rows inserted into its range); the finish's verification covers the rest. */
const MAX_EXTRA_PAGES = 4;

/**
 * Starts (or adopts) a segment's DEK rotation under the segment's rotation lease, like
 * `rotateDek`, and splits the segment into batches along the hook's own scan cursors, instead of
 * re-encrypting it here. The job record remembers the split, so the rotation's finish (once every
 * batch is done) skips the first pass and runs only the verification and the retirement of old DEKs.
 *
 * @example
 * ```ts
 * const plan = await planDekRotation(h, { segment: 'tenant:acme', hook, batchSize: 500 });
 * ```
 */
async function planDekRotation(h: HierarchyInternals, options: DekRotationPlanOptions): Promise<DekRotationPlan> {
  const keyring = options.keyring ?? h.defaultKeyring;
  const { segment, hook } = options;
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new KeystrataError('CONFIG_INVALID', 'batchSize must be a positive integer.');
  return withLease(h.keyStore, `segment:${keyring}:${segment}`, `rotate the DEK of segment "${segment}"`, async (lease: HeldLease) => {
    const { job, data, resumed } = await switchToNewDek(h, keyring, segment, lease);
    const dekId = data.dekId!;
    const old = await h.keyStore.listDeks({ keyring, segment, states: ['primary', 'enabled', 'disabled'], limit: 1000 });
    const oldDekIds = old.map((dek) => dek.id).filter((id) => id !== dekId);
    const starts: Array<string | null> = [null];
    for (let cursor: string | null = null; ; ) {
      lease.assertHeld();
      const page = await hook.scan({ keyring, segment, cursor, limit: batchSize });
      if (page.cursor === null) break;
      cursor = page.cursor;
      starts.push(cursor);
    }
    const batches = starts.map((from, index) => ({ keyring, segment, dekId, oldDekIds, from, to: starts[index + 1] ?? null, batchSize, index }));
    const next: DekRotationJobData = { ...data, batches: batches.length, oldKeys: options.oldKeys ?? 'keep' };
    await h.keyStore.putJob({ ...job, data: JSON.stringify(next), updatedAt: now() });
    return { keyring, segment, dekId, version: data.version, resumed, batches };
  });
}

/**
 * Re-encrypts one batch with compare-and-swap writes, outside the segment's lease (many workers
 * run batches of one segment at once). Does nothing when the segment's rotation is no longer
 * running with the batch's DEK. `stillLeased` is asked before every write: once the worker's
 * lease on the batch has expired (another worker may have taken it over), the batch stops with
 * `ROTATION_IN_PROGRESS`.
 *
 * @example
 * ```ts
 * const result = await reencryptDekBatch(h, crypto, hook, batch, () => Date.now() < leaseEnd);
 * ```
 */
async function reencryptDekBatch(h: HierarchyInternals, crypto: RotationCrypto, hook: ReencryptionHook, batch: DekRotationBatch, stillLeased: () => boolean = () => true): Promise<DekBatchResult> {
  const { keyring, segment } = batch;
  const job = await h.keyStore.getJob(dekRotationJobId(keyring, segment));
  const data = job === undefined ? undefined : (JSON.parse(job.data) as DekRotationJobData);
  if (job?.state !== 'running' || data?.dekId !== batch.dekId) return { current: false, scanned: 0, rewritten: 0 };
  const old = new Set(batch.oldDekIds);
  const lease: HeldLease = {
    name: `batch ${batch.index} of segment:${keyring}:${segment}`,
    holder: 'worker',
    assertHeld() {
      if (!stillLeased())
        throw new KeystrataError('ROTATION_IN_PROGRESS', `The lease on batch ${batch.index} of segment "${segment}" expired before the batch was done; another worker takes it over.`);
    },
  };
  const run = { h, crypto, keyring, segment, hook, batchSize: batch.batchSize, lease, dekId: batch.dekId, isOldDek: (id: string) => old.has(id), reencrypted: 0 };
  let cursor = batch.from;
  let scanned = 0;
  for (let pages = 0; ; pages++) {
    const page = await reencryptPage(run, cursor);
    scanned += page.scanned;
    cursor = page.cursor;
    if (cursor === null || cursor === batch.to) break;
    // Rows inserted into the range push its end past one page; rows deleted make the page overshoot `to`.
    if (batch.to !== null && pages >= MAX_EXTRA_PAGES) break;
  }
  return { current: true, scanned, rewritten: run.reencrypted };
}

/**
 * Finishes a rotation whose batches are all done: under the segment's lease, when the rotation
 * to `dekId` is still running, waits for other processes' writers to move to the new DEK, verifies
 * the whole segment (re-encrypting what it finds on an old DEK) and retires the old DEKs as planned.
 * Returns undefined when that rotation is no longer running (another worker finished it).
 *
 * @example
 * ```ts
 * const result = await finishDekRotation(h, crypto, hook, { keyring: 'default', segment: 'tenant:acme', dekId });
 * ```
 */
async function finishDekRotation(
  h: HierarchyInternals,
  crypto: RotationCrypto,
  hook: ReencryptionHook,
  rotation: { readonly keyring: string; readonly segment: string; readonly dekId: string },
): Promise<DekRotationResult | undefined> {
  const { keyring, segment, dekId } = rotation;
  return withLease(h.keyStore, `segment:${keyring}:${segment}`, `finish the DEK rotation of segment "${segment}"`, async () => {
    const job = await h.keyStore.getJob(dekRotationJobId(keyring, segment));
    const data = job === undefined ? undefined : (JSON.parse(job.data) as DekRotationJobData);
    if (job?.state !== 'running' || data?.dekId !== dekId) return undefined;
    // Re-enters the lease held here, so nobody can finish or start another rotation in between.
    return rotateDek(h, crypto, { keyring, segment, hook });
  });
}

/** The public part of the hierarchy the steps decrypt and encrypt with. */
interface ValueCrypto {
  decryptValues(items: ReadonlyArray<{ ciphertext: unknown; context: FieldContext }>): Promise<FieldValue[]>;
  encryptValues(items: ReadonlyArray<{ value: FieldValue; context: FieldContext }>): Promise<string[]>;
}

/**
 * {@link planDekRotation}, {@link reencryptDekBatch} and {@link finishDekRotation} bound to one hierarchy (`hierarchy.dekRotationSteps`).
 *
 * @example
 * ```ts
 * const steps: DekRotationSteps = hierarchy.dekRotationSteps;
 * const plan = await steps.plan({ segment: 'tenant:acme', hook });
 * for (const batch of plan.batches) await steps.reencryptBatch(batch, hook); // workers run them, in any order
 * await steps.finish(plan, hook); // once every batch is done
 * ```
 */
export interface DekRotationSteps {
  plan(options: DekRotationPlanOptions): Promise<DekRotationPlan>;
  reencryptBatch(batch: DekRotationBatch, hook: ReencryptionHook, stillLeased?: () => boolean): Promise<DekBatchResult>;
  finish(rotation: { readonly keyring: string; readonly segment: string; readonly dekId: string }, hook: ReencryptionHook): Promise<DekRotationResult | undefined>;
}

/**
 * The steps of a DEK rotation run by workers, bound to a hierarchy's internals. Values of the
 * rotated segment are read as its keyring's (the hook's contexts may not name it).
 *
 * @example
 * ```ts
 * const plan = await hierarchy.dekRotationSteps.plan({ segment: 'tenant:acme', hook });
 * ```
 */
export function dekRotationSteps(h: HierarchyInternals, values: ValueCrypto): DekRotationSteps {
  const cryptoFor = (keyring: string): RotationCrypto => ({
    decrypt: (items) => values.decryptValues(items.map((item) => (item.context.keyring === undefined ? { ...item, context: { ...item.context, keyring } } : item))),
    encrypt: (items) => values.encryptValues(items),
  });
  return {
    plan: (options) => planDekRotation(h, options),
    reencryptBatch: (batch, hook, stillLeased) => reencryptDekBatch(h, cryptoFor(batch.keyring), hook, batch, stillLeased),
    finish: (rotation, hook) => finishDekRotation(h, cryptoFor(rotation.keyring), hook, rotation),
  };
}
