import { inject } from 'vitest';
import { KeyHierarchy, Pkcs11RootKey, type KeyStore } from '@keystrata/core';
import { CACHE_MAX_AGE_MS } from './config.js';
import type { KeyCounters } from './harness.js';

/** A root key on the run's SoftHSM2 token and a provisioned hierarchy over `keyStore`. */
export async function openHierarchy(keyStore: KeyStore, label: string): Promise<KeyHierarchy> {
  const token = inject('softhsm');
  const rootKey = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
  const hierarchy = await KeyHierarchy.create({ rootKey, keyStore, cmkLabelPrefix: `bench-${label}-${Date.now().toString(36)}`, cache: { maxAgeMs: CACHE_MAX_AGE_MS } });
  await hierarchy.provision();
  return hierarchy;
}

/** HSM calls and key-store queries so far. */
export const countersOf = (hierarchy: KeyHierarchy) => (): KeyCounters => {
  const { hsmCalls, keyStoreQueries } = hierarchy.stats();
  return { hsmCalls, keyStoreQueries };
};

/** KEK versions in the key store (W4's expected HSM calls: one per KEK version involved). */
export async function kekVersions(hierarchy: KeyHierarchy): Promise<number> {
  const status = await hierarchy.status();
  return status.keyrings.reduce((n, k) => n + k.keks.length, 0);
}
