import { createNssSoftoken, type NssSoftoken } from '@keystrata/testing';
import { Pkcs11RootKey } from '../src/index.js';
import { describeHierarchy } from './hierarchy-behaviour.js';
import { postgresStack, sqliteStack } from './stacks.js';

// Issue 14 §portability: the whole hierarchy conformance suite on a second PKCS#11 implementation,
// NSS softoken (libsoftokn3), opened by configuration alone (library parameters). NSS allows one
// C_Initialize per process: this file runs in its own worker and every root key here gives the same
// library parameters (the module is finalised when the last one closes, and initialised again).

let nss: NssSoftoken | undefined;
const openNssRootKey = async (): Promise<Pkcs11RootKey> => {
  nss ??= createNssSoftoken({ label: 'keystrata-nss' });
  return Pkcs11RootKey.open({ module: nss.module, libraryParameters: nss.libraryParameters, tokenLabel: nss.tokenLabel, pin: () => nss!.pin });
};

describeHierarchy('NSS softoken and SQLite (integration, issue 14 §portability)', () => sqliteStack(openNssRootKey));
describeHierarchy('NSS softoken and PostgreSQL (integration, issue 14 §portability)', () => postgresStack(openNssRootKey));
