import { randomBytes } from 'node:crypto';
import { KeystrataError } from '../errors/keystrata-error.js';
import { kekBinding } from '../key-wrap/kek-binding.js';
import type { CmkRecord, KekRecord } from '../key-store/records.js';
import { now, type HierarchyInternals, type ProgressListener } from './internals.js';
import { LEASE_TTL_MS, withLease } from './rotation-lease.js';
import { shredJobId } from '../shred/shred-job.js';

const cmkRef = (c: CmkRecord) => ({ label: c.hsmLabel, id: c.hsmId });

/** Reports a named step of a rotation to the progress listener (also where tests inject kills). */
function step(onProgress: ProgressListener | undefined, phase: string, done = 0, total?: number): void {
  onProgress?.({ phase, done, ...(total === undefined ? {} : { total }) });
}

/** The lease that serialises CMK and KEK rotations (and provisioning, retirement) of a keyring. */
const keyringLease = (keyring: string): string => `keyring:${keyring}`;

/**
 * What the `cmk-rotation:<keyring>` job remembers, saved before the HSM object exists: the version
 * being created and the CKA_ID it gets, so a rerun after a kill finds that very object again.
 */
interface CmkJobData {
  readonly version: number;
  readonly hsmId: string;
}

const cmkJobId = (keyring: string): string => `cmk-rotation:${keyring}`;

/** A fresh job for CMK `version`, with the id its HSM object will get. */
const newCmkJob = (version: number): CmkJobData => ({ version, hsmId: randomBytes(16).toString('hex') });

async function saveCmkJob(h: HierarchyInternals, keyring: string, state: 'running' | 'done', data: CmkJobData, processed = 0): Promise<void> {
  await h.keyStore.putJob({ id: cmkJobId(keyring), kind: 'cmk-rotation', state, cursor: null, processed, data: JSON.stringify(data), updatedAt: now() });
}

/**
 * Creates CMK `data.version` of a keyring in the HSM under the id the job saved, audits it as
 * `generate` before registering it, and registers it as `state`. When a killed run already created
 * the object (found by that id), it is adopted (audited again, `adopted: true`) instead.
 */
async function createCmkVersion(h: HierarchyInternals, keyring: string, data: CmkJobData, state: 'primary' | 'enabled', onProgress?: ProgressListener): Promise<CmkRecord> {
  const { version } = data;
  let ref = { label: `${h.cmkLabelPrefix}/${keyring}/v${version}`, id: data.hsmId };
  if (await h.rootKey.hasCmk(ref)) {
    await h.audit.record('generate', `cmk:${keyring}:v${version}`, { keyring, version, hsmLabel: ref.label, hsmId: ref.id, adopted: true });
  } else {
    const created = await h.rootKey.createCmk(ref.label, data.hsmId);
    // A RootKey that chose its own id (ignoring the one asked for): remember that one instead.
    if (created.id !== ref.id) await saveCmkJob(h, keyring, 'running', { version, hsmId: created.id });
    ref = created;
    step(onProgress, 'CMK created in the HSM');
    await h.audit.record('generate', `cmk:${keyring}:v${version}`, { keyring, version, hsmLabel: ref.label, hsmId: ref.id });
  }
  step(onProgress, 'CMK generate audited');
  const at = now();
  const record: CmkRecord = { keyring, version, hsmLabel: ref.label, hsmId: ref.id, state, createdAt: at, updatedAt: at };
  await h.keyStore.insertCmk(record);
  step(onProgress, 'CMK registered');
  return record;
}

async function createKekVersion(h: HierarchyInternals, keyring: string, version: number, cmk: CmkRecord): Promise<KekRecord> {
  const wrapped = await h.rootKey.generateWrappedKek(cmkRef(cmk));
  // Bind the new KEK to its identity (docs/format.md): unwrapped once, in process, then zero-filled.
  const kek = await h.rootKey.unwrapKek(cmkRef(cmk), wrapped);
  let binding: string;
  try {
    binding = kekBinding(kek.exposeSecretBytes(), keyring, version);
  } finally {
    kek.destroy();
  }
  const at = now();
  const record: KekRecord = { keyring, version, cmkVersion: cmk.version, wrapped: wrapped.toString('base64'), state: 'primary', createdAt: at, updatedAt: at, binding };
  await h.keyStore.insertKek(record);
  await h.audit.record('generate', `kek:${keyring}:v${version}`, { keyring, version, cmkVersion: cmk.version });
  return record;
}

/**
 * Result of {@link provisionKeyring}.
 *
 * @example
 * ```ts
 * const { keyring, createdCmk, createdKek } = await hierarchy.provision('billing');
 * if (!createdCmk && !createdKek) console.log(`keyring ${keyring} was already provisioned`);
 * ```
 */
export interface ProvisionResult {
  readonly keyring: string;
  readonly createdCmk: boolean;
  readonly createdKek: boolean;
}

/**
 * Creates a keyring's first CMK version (in the HSM) and first KEK, unless they exist. Idempotent;
 * concurrent callers wait for the keyring's lease, so only one creates anything.
 */
export async function provisionKeyring(h: HierarchyInternals, keyring: string): Promise<ProvisionResult> {
  const ready = async (): Promise<boolean> => (await h.keyStore.listCmks(keyring)).some((c) => c.state === 'primary') && (await h.keyStore.listKeks(keyring)).length > 0;
  if (await ready()) return { keyring, createdCmk: false, createdKek: false };
  return withLease(
    h.keyStore,
    keyringLease(keyring),
    `provision keyring "${keyring}"`,
    async () => {
      const cmks = await h.keyStore.listCmks(keyring);
      let cmk = cmks.find((c) => c.state === 'primary');
      const createdCmk = cmk === undefined;
      if (cmk === undefined) {
        if (cmks.length > 0)
          throw new KeystrataError('KEY_DISABLED', `Keyring "${keyring}" has CMK versions but none is primary.`, {
            hint: 'Run `keystrata status`: a CMK rotation was interrupted (run `keystrata rotate cmk` again) or the CMK was revoked (`keystrata enable cmk`).',
          });
        const job = await h.keyStore.getJob(cmkJobId(keyring));
        const pending = job?.state === 'running' ? (JSON.parse(job.data) as CmkJobData) : undefined;
        const data = pending?.version === 1 ? pending : newCmkJob(1);
        if (data !== pending) await saveCmkJob(h, keyring, 'running', data);
        cmk = await createCmkVersion(h, keyring, data, 'primary');
        await saveCmkJob(h, keyring, 'done', { version: 1, hsmId: cmk.hsmId });
      }
      const keks = await h.keyStore.listKeks(keyring);
      const createdKek = keks.length === 0;
      if (createdKek) await createKekVersion(h, keyring, 1, cmk);
      return { keyring, createdCmk, createdKek };
    },
    { waitMs: LEASE_TTL_MS },
  );
}

/**
 * Result of {@link rotateCmk}.
 *
 * @example
 * ```ts
 * const { version, rewrapped, resumed } = await hierarchy.rotateCmk({ keyring: 'default' });
 * console.log(`CMK v${version}: ${rewrapped} KEK(s) re-wrapped in the HSM${resumed ? ' (resumed run)' : ''}`);
 * ```
 */
export interface CmkRotationResult {
  readonly keyring: string;
  readonly version: number;
  readonly rewrapped: number;
  readonly resumed: boolean;
}

/**
 * Creates a new CMK version and re-wraps every KEK under it inside the HSM, then makes it the
 * keyring's only primary version in one key-store transaction. Runs under the keyring's lease (a
 * concurrent rotation fails with `ROTATION_IN_PROGRESS` before anything is created). Resumable: the
 * target version and its HSM id are stored before the HSM object exists, so a rerun after a kill at
 * any step finishes the same rotation (adopting the CMK object the killed run created, if any).
 *
 * @example
 * ```ts
 * const { version, rewrapped } = await rotateCmk(h, 'default');
 * ```
 */
export async function rotateCmk(h: HierarchyInternals, keyring: string, onProgress?: ProgressListener): Promise<CmkRotationResult> {
  return withLease(h.keyStore, keyringLease(keyring), `rotate the CMK of keyring "${keyring}"`, async (lease) => {
    step(onProgress, 'lease taken');
    // An interrupted shred epoch made the newest CMK version for itself: a rotation now would re-wrap
    // the old KEKs under it, and they would outlive the epoch. The epoch is finished first.
    if ((await h.keyStore.getJob(shredJobId(keyring)))?.state === 'running') {
      throw new KeystrataError('ROTATION_IN_PROGRESS', `A shred epoch of keyring "${keyring}" is unfinished; run \`keystrata shred complete\` first, then rotate the CMK. Nothing was created.`, {
        details: { keyring },
      });
    }
    const job = await h.keyStore.getJob(cmkJobId(keyring));
    let cmks = await h.keyStore.listCmks(keyring);
    const primary = cmks.find((c) => c.state === 'primary');
    if (primary === undefined) throw new KeystrataError('KEY_NOT_FOUND', `Keyring "${keyring}" has no primary CMK; run \`keystrata init\`.`);
    let data: CmkJobData;
    let resumed = job?.state === 'running';
    if (job !== undefined && resumed) {
      data = JSON.parse(job.data) as CmkJobData;
    } else if ((await h.keyStore.listKeks(keyring)).some((k) => k.state !== 'destroyed' && k.cmkVersion !== primary.version)) {
      // A rotation interrupted before this version of the library: KEKs still under an older version.
      data = { version: primary.version, hsmId: primary.hsmId };
      resumed = true;
    } else {
      data = newCmkJob(Math.max(...cmks.map((c) => c.version)) + 1);
      await saveCmkJob(h, keyring, 'running', data);
      step(onProgress, 'rotation intent saved');
    }
    const { version } = data;
    lease.assertHeld();
    const target = cmks.find((c) => c.version === version) ?? (await createCmkVersion(h, keyring, data, 'enabled', onProgress));
    cmks = await h.keyStore.listCmks(keyring);
    const keks = (await h.keyStore.listKeks(keyring)).filter((k) => k.state !== 'destroyed' && k.cmkVersion !== target.version);
    const byVersion = new Map(cmks.map((c) => [c.version, c]));
    let done = 0;
    for (const kek of keks) {
      const from = byVersion.get(kek.cmkVersion);
      if (from === undefined) throw new KeystrataError('KEY_NOT_FOUND', `CMK ${keyring} v${kek.cmkVersion} is missing.`);
      lease.assertHeld();
      const wrapped = await h.rootKey.rewrapKek(cmkRef(from), cmkRef(target), Buffer.from(kek.wrapped, 'base64'));
      await h.keyStore.updateKek(keyring, kek.version, { wrapped: wrapped.toString('base64'), cmkVersion: target.version, at: now() });
      await h.audit.record('rewrap', `kek:${keyring}:v${kek.version}`, { fromCmkVersion: from.version, toCmkVersion: target.version });
      done++;
      step(onProgress, 'rewrap KEKs', done, keks.length);
    }
    lease.assertHeld();
    if (target.state !== 'primary') await h.keyStore.setPrimaryCmk(keyring, target.version, now());
    step(onProgress, 'primary switched');
    await h.audit.record('rotate', `cmk:${keyring}`, { version: target.version, rewrapped: done, resumed });
    if (job !== undefined || !resumed) await saveCmkJob(h, keyring, 'done', { version, hsmId: target.hsmId }, done);
    step(onProgress, 'rotation done');
    return { keyring, version: target.version, rewrapped: done, resumed };
  });
}

/** Destroys an old CMK version in the HSM; refused while it is primary, the target of a pending rotation, or any KEK references it. */
export async function retireCmk(h: HierarchyInternals, keyring: string, version: number): Promise<void> {
  await withLease(h.keyStore, keyringLease(keyring), `retire CMK ${keyring} v${version}`, async () => {
    const cmk = (await h.keyStore.listCmks(keyring)).find((c) => c.version === version);
    if (cmk === undefined) throw new KeystrataError('KEY_NOT_FOUND', `CMK ${keyring} v${version} does not exist.`);
    if (cmk.state === 'retired') return;
    if (cmk.state === 'primary') throw new KeystrataError('KEY_IN_USE', `CMK ${keyring} v${version} is primary; rotate first.`);
    const job = await h.keyStore.getJob(cmkJobId(keyring));
    if (job?.state === 'running' && (JSON.parse(job.data) as CmkJobData).version === version) {
      throw new KeystrataError('KEY_IN_USE', `CMK ${keyring} v${version} is the target of an interrupted rotation; finish \`keystrata rotate cmk\` first.`);
    }
    const users = (await h.keyStore.listKeks(keyring)).filter((k) => k.cmkVersion === version && k.state !== 'destroyed');
    if (users.length > 0) {
      throw new KeystrataError('KEY_IN_USE', `CMK ${keyring} v${version} still wraps KEK version(s) ${users.map((k) => k.version).join(', ')}; finish \`keystrata rotate cmk\` first.`);
    }
    if (await h.rootKey.hasCmk(cmkRef(cmk))) await h.rootKey.destroyCmk(cmkRef(cmk));
    await h.keyStore.setCmkState(keyring, version, 'retired', now());
    await h.audit.record('retire', `cmk:${keyring}:v${version}`, { keyring, version });
  });
}

/**
 * Result of {@link rotateKek}.
 *
 * @example
 * ```ts
 * const { keyring, version } = await hierarchy.rotateKek();
 * await hierarchy.rewrapDeks({ keyring }); // moves the older DEKs under the new KEK `version`
 * ```
 */
export interface KekRotationResult {
  readonly keyring: string;
  readonly version: number;
}

interface KekJobData {
  readonly version: number;
}

/**
 * Creates a new KEK version under the primary CMK; new DEKs wrap under it, old DEKs stay until
 * `rewrapDeks`. Under the keyring's lease; the key store demotes the previous primary KEK in the
 * same transaction that inserts the new one. Resumable: a rerun after a kill finishes the same version.
 *
 * @example
 * ```ts
 * const { version } = await rotateKek(h, 'default');
 * ```
 */
export async function rotateKek(h: HierarchyInternals, keyring: string, onProgress?: ProgressListener, reason?: string): Promise<KekRotationResult> {
  return withLease(h.keyStore, keyringLease(keyring), `rotate the KEK of keyring "${keyring}"`, async (lease) => {
    const cmk = (await h.keyStore.listCmks(keyring)).find((c) => c.state === 'primary');
    if (cmk === undefined) throw new KeystrataError('KEY_NOT_FOUND', `Keyring "${keyring}" has no primary CMK; run \`keystrata init\`.`);
    const jobId = `kek-rotation:${keyring}`;
    const job = await h.keyStore.getJob(jobId);
    const keks = await h.keyStore.listKeks(keyring);
    let version: number;
    if (job?.state === 'running') {
      version = (JSON.parse(job.data) as KekJobData).version;
    } else {
      version = Math.max(0, ...keks.map((k) => k.version)) + 1;
      await h.keyStore.putJob({ id: jobId, kind: 'kek-rotation', state: 'running', cursor: null, processed: 0, data: JSON.stringify({ version } satisfies KekJobData), updatedAt: now() });
    }
    step(onProgress, 'rotation intent saved');
    lease.assertHeld();
    const existing = keks.find((k) => k.version === version);
    if (existing === undefined) {
      await createKekVersion(h, keyring, version, cmk);
    } else {
      // A killed run registered it; its `generate` record may be missing.
      await h.audit.record('generate', `kek:${keyring}:v${version}`, { keyring, version, cmkVersion: existing.cmkVersion, resumed: true });
    }
    step(onProgress, 'KEK registered');
    // An automatic rotation (docs/rotation-policies.md) is audited like a manual one, plus its reason.
    await h.audit.record('rotate', `kek:${keyring}`, { version, ...(reason === undefined ? {} : { reason, automatic: true }) });
    await h.keyStore.putJob({ id: jobId, kind: 'kek-rotation', state: 'done', cursor: null, processed: 1, data: JSON.stringify({ version } satisfies KekJobData), updatedAt: now() });
    return { keyring, version };
  });
}
