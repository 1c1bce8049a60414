// @keystrata/core/testing: test doubles for unit tests. Never in production: the software root
// key holds its CMK in process memory and the memory key store forgets everything on exit.
export { SoftwareRootKey } from './root-key/software-root-key.js';
export { MemoryKeyStore } from './key-store/memory-key-store.js';
