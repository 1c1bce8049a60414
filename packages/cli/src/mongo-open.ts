import { KeystrataError, type KeyStore } from '@keystrata/core';

/** Loads a module by name (`import()` by default; a test passes its own to play a missing package). */
export type ModuleLoader = (name: string) => Promise<unknown>;

type MongooseModule = { default: { createConnection(url: string, options: object): { asPromise(): Promise<MongoConnection> } } };
type MongoConnection = { db?: unknown; close(): Promise<void> };
/** The options of `MongoKeyStore` the CLI passes (a subset of @keystrata/mongoose's `MongoKeyStoreOptions`). */
export interface MongoStoreOptions {
  /** Collection prefix (default `keystrata_`). */
  readonly prefix?: string;
}
type KeystrataMongooseModule = { MongoKeyStore: new (db: never, options?: MongoStoreOptions) => KeyStore };

const INSTALL = 'npm install @keystrata/mongoose mongoose';

/** True for a module-not-found error (ESM or CommonJS). */
function isMissingModule(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** The package a module-not-found error names (package names only: no user input in these messages). */
function missingPackage(error: unknown, fallback: string): string {
  const message = error instanceof Error ? error.message : '';
  const match = /Cannot find (?:package|module) '((?:@[\w.-]+\/)?[\w.-]+)/.exec(message);
  return match?.[1] ?? fallback;
}

async function load<T>(name: string, loader: ModuleLoader): Promise<T> {
  try {
    return (await loader(name)) as T;
  } catch (error) {
    if (!isMissingModule(error)) throw error;
    const missing = missingPackage(error, name);
    throw new KeystrataError('CONFIG_INVALID', `keyStore.url is a MongoDB URL, which needs the package ${missing}; it is not installed in this project.`, {
      hint: `Install it in the application's project, where keystrata.config.json is (${INSTALL}); SQL key stores do not need it.`,
    });
  }
}

/**
 * Opens the MongoDB key store of `@keystrata/mongoose` (the collections a Mongoose app's
 * `MongoKeyStore` uses, so the CLI and the app share one key store): loaded on demand through
 * `loader` (the open command passes one that looks in the application's node_modules first), so
 * SQL users need neither mongoose nor mongodb. Returns the key store and a function closing its connection.
 *
 * @example
 * ```ts
 * const { keyStore, closeConnection } = await openMongoKeyStore('mongodb://127.0.0.1/clinic', {});
 * ```
 */
export async function openMongoKeyStore(url: string, options: MongoStoreOptions, loader: ModuleLoader = (name) => import(name)): Promise<{ keyStore: KeyStore; closeConnection: () => Promise<void> }> {
  const { MongoKeyStore } = await load<KeystrataMongooseModule>('@keystrata/mongoose', loader);
  const mongoose = await load<MongooseModule>('mongoose', loader);
  let connection: MongoConnection;
  try {
    connection = await mongoose.default.createConnection(url, /serverSelectionTimeoutMS=/i.test(url) ? {} : { serverSelectionTimeoutMS: 10_000 }).asPromise();
  } catch (error) {
    throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'Could not connect to the MongoDB key store.', {
      cause: error,
      hint: 'Check keyStore.url (or KEYSTRATA_DATABASE_URL): host, port, credentials and the database name in its path.',
    });
  }
  try {
    return { keyStore: new MongoKeyStore(connection.db as never, options), closeConnection: () => connection.close() };
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
}
