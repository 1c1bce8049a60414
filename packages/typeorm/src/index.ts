export { Encrypted, type EncryptedOptions } from './entity/decorators.js';
export { EncryptedModel } from './entity/model-name.js';
export { installKeystrata } from './install.js';
export type { InstallOptions } from './install-options.js';
export { KeystrataTypeorm } from './keystrata.js';
export { keyStoreFor } from './key-store.js';
export { typeormReencryptionHook } from './rotation/hook.js';
export { UnreadableValue, KeystrataError } from '@keystrata/core';
