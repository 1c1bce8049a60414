import { KeystrataError } from '../errors/keystrata-error.js';
import { kekBinding } from '../key-wrap/kek-binding.js';
import type { CmkRecord, KekRecord } from '../key-store/records.js';
import { now, type HierarchyInternals, type ProgressListener } from './internals.js';

const cmkRef = (c: CmkRecord) => ({ label: c.hsmLabel, id: c.hsmId });

async function createCmkVersion(h: HierarchyInternals, keyring: string, version: number): Promise<CmkRecord> {
  const label = `${h.cmkLabelPrefix}/${keyring}/v${version}`;
  const ref = await h.rootKey.createCmk(label);
  const at = now();
  const record: CmkRecord = { keyring, version, hsmLabel: ref.label, hsmId: ref.id, state: 'primary', createdAt: at, updatedAt: at };
  await h.keyStore.insertCmk(record);
  await h.audit.record('generate', `cmk:${keyring}:v${version}`, { keyring, version, hsmLabel: label });
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

/** Result of {@link provisionKeyring}. */
export interface ProvisionResult {
  readonly keyring: string;
  readonly createdCmk: boolean;
  readonly createdKek: boolean;
}

/** Creates a keyring's first CMK version (in the HSM) and first KEK, unless they exist. Idempotent. */
export async function provisionKeyring(h: HierarchyInternals, keyring: string): Promise<ProvisionResult> {
  const cmks = await h.keyStore.listCmks(keyring);
  let cmk = cmks.find((c) => c.state === 'primary');
  const createdCmk = cmk === undefined;
  if (cmk === undefined) {
    if (cmks.length > 0) throw new KeystrataError('KEY_DISABLED', `Keyring "${keyring}" has CMK versions but none is primary.`, { hint: 'Run `keystrata status`: a CMK rotation was interrupted (run `keystrata rotate cmk` again) or the CMK was revoked (`keystrata enable cmk`).' });
    cmk = await createCmkVersion(h, keyring, 1);
  }
  const keks = await h.keyStore.listKeks(keyring);
  const createdKek = keks.length === 0;
  if (createdKek) await createKekVersion(h, keyring, 1, cmk);
  return { keyring, createdCmk, createdKek };
}

/** Result of {@link rotateCmk}. */
export interface CmkRotationResult {
  readonly keyring: string;
  readonly version: number;
  readonly rewrapped: number;
  readonly resumed: boolean;
}

/**
 * Creates a new CMK version and re-wraps every KEK under it inside the HSM. Resumable: if KEKs
 * still sit under an older version (a crash mid-rotation), a rerun finishes that rotation
 * instead of starting another.
 */
export async function rotateCmk(h: HierarchyInternals, keyring: string, onProgress?: ProgressListener): Promise<CmkRotationResult> {
  const cmks = await h.keyStore.listCmks(keyring);
  const primary = cmks.find((c) => c.state === 'primary');
  if (primary === undefined) throw new KeystrataError('KEY_NOT_FOUND', `Keyring "${keyring}" has no primary CMK; run \`keystrata init\`.`);
  const pending = (await h.keyStore.listKeks(keyring)).filter((k) => k.state !== 'destroyed' && k.cmkVersion !== primary.version);
  const resumed = pending.length > 0;
  let target = primary;
  if (!resumed) {
    const version = Math.max(...cmks.map((c) => c.version)) + 1;
    target = await createCmkVersion(h, keyring, version);
    await h.keyStore.setCmkState(keyring, primary.version, 'enabled', now());
  }
  const keks = (await h.keyStore.listKeks(keyring)).filter((k) => k.state !== 'destroyed' && k.cmkVersion !== target.version);
  const byVersion = new Map(cmks.map((c) => [c.version, c]));
  let done = 0;
  for (const kek of keks) {
    const from = byVersion.get(kek.cmkVersion);
    if (from === undefined) throw new KeystrataError('KEY_NOT_FOUND', `CMK ${keyring} v${kek.cmkVersion} is missing.`);
    const wrapped = await h.rootKey.rewrapKek(cmkRef(from), cmkRef(target), Buffer.from(kek.wrapped, 'base64'));
    await h.keyStore.updateKek(keyring, kek.version, { wrapped: wrapped.toString('base64'), cmkVersion: target.version, at: now() });
    await h.audit.record('rewrap', `kek:${keyring}:v${kek.version}`, { fromCmkVersion: from.version, toCmkVersion: target.version });
    done++;
    onProgress?.({ phase: 'rewrap KEKs', done, total: keks.length });
  }
  await h.audit.record('rotate', `cmk:${keyring}`, { version: target.version, rewrapped: done, resumed });
  return { keyring, version: target.version, rewrapped: done, resumed };
}

/** Destroys an old CMK version in the HSM; refused while it is primary or any KEK references it. */
export async function retireCmk(h: HierarchyInternals, keyring: string, version: number): Promise<void> {
  const cmk = (await h.keyStore.listCmks(keyring)).find((c) => c.version === version);
  if (cmk === undefined) throw new KeystrataError('KEY_NOT_FOUND', `CMK ${keyring} v${version} does not exist.`);
  if (cmk.state === 'retired') return;
  if (cmk.state === 'primary') throw new KeystrataError('KEY_IN_USE', `CMK ${keyring} v${version} is primary; rotate first.`);
  const users = (await h.keyStore.listKeks(keyring)).filter((k) => k.cmkVersion === version && k.state !== 'destroyed');
  if (users.length > 0) {
    throw new KeystrataError('KEY_IN_USE', `CMK ${keyring} v${version} still wraps KEK version(s) ${users.map((k) => k.version).join(', ')}; finish \`keystrata rotate cmk\` first.`);
  }
  if (await h.rootKey.hasCmk(cmkRef(cmk))) await h.rootKey.destroyCmk(cmkRef(cmk));
  await h.keyStore.setCmkState(keyring, version, 'retired', now());
  await h.audit.record('retire', `cmk:${keyring}:v${version}`, { keyring, version });
}

/** Result of {@link rotateKek}. */
export interface KekRotationResult {
  readonly keyring: string;
  readonly version: number;
}

/** Creates a new KEK version under the primary CMK; new DEKs wrap under it, old DEKs stay until `rewrapDeks`. */
export async function rotateKek(h: HierarchyInternals, keyring: string): Promise<KekRotationResult> {
  const cmk = (await h.keyStore.listCmks(keyring)).find((c) => c.state === 'primary');
  if (cmk === undefined) throw new KeystrataError('KEY_NOT_FOUND', `Keyring "${keyring}" has no primary CMK; run \`keystrata init\`.`);
  const keks = await h.keyStore.listKeks(keyring);
  const version = Math.max(0, ...keks.map((k) => k.version)) + 1;
  await createKekVersion(h, keyring, version, cmk);
  for (const old of keks.filter((k) => k.state === 'primary')) await h.keyStore.updateKek(keyring, old.version, { state: 'enabled', at: now() });
  await h.audit.record('rotate', `kek:${keyring}`, { version });
  return { keyring, version };
}
