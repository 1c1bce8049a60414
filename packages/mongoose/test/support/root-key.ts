import type {} from '@keystrata/testing';
import { Pkcs11RootKey, type RootKey } from '@keystrata/core';
import { inject } from 'vitest';

/** A root key on the run's SoftHSM2 token. */
export async function openRootKey(): Promise<Pkcs11RootKey> {
  const token = inject('softhsm');
  return Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
}

/** A root key that can be cut off, as if the HSM became unreachable; closing it twice is harmless. */
export interface BreakableRootKey extends RootKey {
  break(): Promise<void>;
}

/** Wraps a root key so `break()` closes it for good (later calls fail with HSM_UNAVAILABLE). */
export function breakable(inner: RootKey): BreakableRootKey {
  let closed = false;
  const closeOnce = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await inner.close();
  };
  return {
    get description() {
      return inner.description;
    },
    get stats() {
      return inner.stats;
    },
    createCmk: (label) => inner.createCmk(label),
    hasCmk: (cmk) => inner.hasCmk(cmk),
    destroyCmk: (cmk) => inner.destroyCmk(cmk),
    findCmks: (label) => inner.findCmks!(label),
    generateWrappedKek: (cmk) => inner.generateWrappedKek(cmk),
    unwrapKek: (cmk, wrapped) => inner.unwrapKek(cmk, wrapped),
    rewrapKek: (from, to, wrapped) => inner.rewrapKek(from, to, wrapped),
    auditMac: (data, key) => inner.auditMac(data, key),
    auditKeyIdentity: (keyId) => inner.auditKeyIdentity!(keyId),
    createAuditKey: () => inner.createAuditKey!(),
    close: closeOnce,
    break: closeOnce,
  };
}
