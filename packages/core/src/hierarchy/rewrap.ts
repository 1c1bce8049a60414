import { kwpUnwrap, kwpWrap } from '../crypto/aes-kwp.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { now, type HierarchyInternals, type ProgressListener } from './internals.js';

/** Result of {@link rewrapDeks}. */
export interface RewrapResult {
  readonly keyring: string;
  readonly kekVersion: number;
  readonly rewrapped: number;
  /** DEKs whose old KEK could not be used (disabled or destroyed); they keep their wrapping. */
  readonly failed: number;
}

/**
 * Moves every live DEK of a keyring under the primary KEK version, in batches, without touching
 * data. Naturally resumable: each batch selects DEKs still under older versions.
 */
export async function rewrapDeks(h: HierarchyInternals, keyring: string, batchSize = 500, onProgress?: ProgressListener): Promise<RewrapResult> {
  const target = await h.resolver.primaryKek(keyring);
  const newKek = await h.resolver.kekFor(target);
  const keks = new Map((await h.keyStore.listKeks(keyring)).map((k) => [k.version, k]));
  const cmks = new Map((await h.keyStore.listCmks(keyring)).map((c) => [c.version, c]));
  let rewrapped = 0;
  let failed = 0;
  let afterId: string | undefined;
  for (;;) {
    const batch = await h.keyStore.listDeks({ keyring, kekVersionBelow: target.kek.version, states: ['primary', 'enabled', 'disabled'], limit: batchSize, ...(afterId === undefined ? {} : { afterId }) });
    if (batch.length === 0) break;
    for (const dek of batch) {
      const kek = keks.get(dek.kekVersion);
      try {
        if (kek === undefined || (kek.state !== 'primary' && kek.state !== 'enabled')) {
          throw new KeystrataError('KEY_DISABLED', `KEK ${keyring} v${dek.kekVersion} is ${kek?.state ?? 'missing'}.`);
        }
        const oldKek = await h.resolver.kekFor({ kek, cmk: cmks.get(kek.cmkVersion) });
        const key = kwpUnwrap(oldKek.exposeSecretBytes(), Buffer.from(dek.wrapped, 'base64'), 32);
        const wrapped = kwpWrap(newKek.exposeSecretBytes(), key.exposeSecretBytes()).toString('base64');
        key.destroy();
        await h.keyStore.updateDek(dek.id, { wrapped, kekVersion: target.kek.version, at: now() });
        h.resolver.evict({ dekId: dek.id });
        rewrapped++;
      } catch (error) {
        if (!KeystrataError.isInstance(error)) throw error;
        failed++;
      }
    }
    afterId = batch.at(-1)!.id;
    onProgress?.({ phase: 'rewrap DEKs', done: rewrapped + failed });
  }
  await h.audit.record('rewrap', `deks:${keyring}`, { kekVersion: target.kek.version, rewrapped, failed });
  return { keyring, kekVersion: target.kek.version, rewrapped, failed };
}
