import './schema-options.js';

export { keystrata } from './plugin/plugin.js';
export type { KeystrataPluginOptions } from './plugin/options.js';
export { decryptDocument } from './decrypt-document.js';
export { mongooseReencryptionHook } from './reencryption-hook.js';
export { MongoKeyStore, type MongoKeyStoreOptions } from './key-store/mongo-key-store.js';
