import { KeystrataError } from '../errors/keystrata-error.js';
import { envelopeDekId } from '../envelope/envelope-format.js';
import type { FieldValue } from '../envelope/value-codec.js';
import type { FieldContext } from '../envelope/field-context.js';
import { now, type HierarchyInternals, type ProgressListener } from './internals.js';
import type { ReencryptionHook, ReencryptionUpdate } from './reencryption-hook.js';

/** Options of {@link rotateDek}. */
export interface DekRotationOptions {
  readonly segment: string;
  readonly keyring?: string;
  readonly hook: ReencryptionHook;
  /** Records per batch (default 200). */
  readonly batchSize?: number;
  /** What happens to the old DEK versions once every record moved (default `keep`). */
  readonly oldKeys?: 'keep' | 'disable' | 'destroy';
  readonly onProgress?: ProgressListener;
}

/** Result of {@link rotateDek}. */
export interface DekRotationResult {
  readonly keyring: string;
  readonly segment: string;
  readonly dekId: string;
  readonly version: number;
  readonly reencrypted: number;
  readonly resumed: boolean;
}

/** Crypto needed by the rotation, supplied by the hierarchy. */
export interface RotationCrypto {
  decrypt(items: ReadonlyArray<{ ciphertext: string; context: FieldContext }>): Promise<FieldValue[]>;
  encrypt(items: ReadonlyArray<{ value: FieldValue; context: FieldContext }>): Promise<string[]>;
}

/**
 * Creates a new DEK version for a segment and re-encrypts the segment's records through the
 * adapter's hook, in batches. The job's cursor is stored in the key store after each batch, so a
 * rerun after a crash resumes where it stopped.
 */
export async function rotateDek(h: HierarchyInternals, crypto: RotationCrypto, options: DekRotationOptions): Promise<DekRotationResult> {
  const keyring = options.keyring ?? h.defaultKeyring;
  const { segment, hook } = options;
  const batchSize = options.batchSize ?? 200;
  const jobId = `dek-rotation:${keyring}:${segment}`;
  let job = await h.keyStore.getJob(jobId);
  const resumed = job?.state === 'running';
  let dekId: string;
  let version: number;
  if (job !== undefined && resumed) {
    ({ dekId, version } = JSON.parse(job.data) as { dekId: string; version: number });
  } else {
    const [latest] = await h.keyStore.loadLatestDekChains(keyring, [segment]);
    if (latest === undefined) throw new KeystrataError('KEY_NOT_FOUND', `Segment "${segment}" has no DEK yet; nothing to rotate.`, { hint: 'A segment gets its first DEK on its first encrypted write; check the segment name and keyring.' });
    version = latest.dek.version + 1;
    const [created] = await h.resolver.createDeks(keyring, [segment], version);
    dekId = created!.dek.id;
    const old = await h.keyStore.listDeks({ keyring, segment, states: ['primary'], limit: 1000 });
    for (const dek of old) if (dek.id !== dekId) await h.keyStore.updateDek(dek.id, { state: 'enabled', at: now() });
    h.resolver.evict({ keyring, segment });
    job = { id: jobId, kind: 'dek-rotation', state: 'running', cursor: null, processed: 0, data: JSON.stringify({ dekId, version }), updatedAt: now() };
    await h.keyStore.putJob(job);
    await h.audit.record('rotate', `segment:${keyring}:${segment}`, { dekId, version });
  }
  const total = await hook.count?.({ keyring, segment });
  let { cursor, processed } = job;
  do {
    const page = await hook.scan({ keyring, segment, cursor, limit: batchSize });
    const stale = page.records.flatMap((r) => r.fields.filter((f) => envelopeDekId(f.ciphertext) !== dekId).map((f) => ({ record: r.id, ...f })));
    if (stale.length > 0) {
      const values = await crypto.decrypt(stale);
      const next = await crypto.encrypt(stale.map((f, i) => ({ value: values[i]!, context: { ...f.context, segment, keyring } })));
      const updates = new Map<string, ReencryptionUpdate['fields'][number][]>();
      stale.forEach((f, i) => {
        const fields = updates.get(f.record) ?? [];
        fields.push({ field: f.field, previous: f.ciphertext, next: next[i]! });
        updates.set(f.record, fields);
      });
      await hook.write([...updates].map(([id, fields]) => ({ id, fields })));
    }
    processed += page.records.length;
    cursor = page.cursor;
    await h.keyStore.putJob({ ...job, cursor, processed, updatedAt: now() });
    options.onProgress?.({ phase: `re-encrypt segment ${segment}`, done: processed, ...(total === undefined ? {} : { total }) });
  } while (cursor !== null);
  await h.keyStore.putJob({ ...job, state: 'done', cursor: null, processed, updatedAt: now() });
  const oldKeys = options.oldKeys ?? 'keep';
  if (oldKeys !== 'keep') {
    const old = await h.keyStore.listDeks({ keyring, segment, states: ['enabled', 'disabled'], limit: 1000 });
    for (const dek of old) {
      await h.keyStore.updateDek(dek.id, { state: oldKeys === 'disable' ? 'disabled' : 'destroyed', ...(oldKeys === 'destroy' ? { wrapped: '' } : {}), at: now() });
      h.resolver.evict({ dekId: dek.id });
    }
    if (old.length > 0) await h.audit.record(oldKeys, `segment:${keyring}:${segment}`, { deks: old.length, reason: 'rotation' });
  }
  await h.audit.record('reencrypt', `segment:${keyring}:${segment}`, { dekId, version, records: processed, resumed });
  return { keyring, segment, dekId, version, reencrypted: processed, resumed };
}
