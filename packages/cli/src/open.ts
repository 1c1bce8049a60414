import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { createPostgresDriver, createSqliteDriver, KeyHierarchy, KeystrataError, Pkcs11RootKey, SqlKeyStore, type KeyStore, type MemberRootKey, type PinSource } from '@keystrata/core';
import { cliActor } from './actor.js';
import { pinSource, type ResolvedConfig } from './config.js';
import { asKeyStoreError, guardKeyStore } from './key-store-guard.js';
import { openMongoKeyStore } from './mongo-open.js';
import { importFromProject } from './project-import.js';
import { findSoftHsmModule } from './softhsm.js';
import { openMemberRootKey } from './open-members.js';

const URL_FORMS = 'keyStore.url must be sqlite:<path>, postgres://… or mongodb://… (mongodb+srv://…).';

/**
 * Opens the key store named by the config: `sqlite:<path>`, `postgres://…`, or `mongodb://…`
 * (the `MongoKeyStore` of @keystrata/mongoose, loaded on demand). Any failure of the database is
 * `KEYSTORE_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * import { loadConfig, openKeyStore } from '@keystrata/cli';
 * const keyStore = await openKeyStore(loadConfig(undefined));
 * ```
 */
export async function openKeyStore(resolved: ResolvedConfig): Promise<KeyStore> {
  const url = resolved.config.keyStore?.url;
  if (url === undefined) throw new KeystrataError('CONFIG_INVALID', 'No key store configured: run `keystrata init` or set KEYSTRATA_DATABASE_URL.');
  const schema = resolved.config.keyStore?.schema;
  if (schema !== undefined && !/^postgres(ql)?:\/\//.test(url))
    throw new KeystrataError('CONFIG_INVALID', 'keyStore.schema applies to postgres:// key stores only; remove it or use a postgres:// keyStore.url.');
  if (/^mongodb(\+srv)?:\/\//.test(url)) {
    const prefix = resolved.config.keyStore?.prefix;
    const projectDirs = [resolved.dir, process.cwd()];
    const { keyStore, closeConnection } = await openMongoKeyStore(url, prefix === undefined ? {} : { prefix }, (name) => importFromProject(name, projectDirs));
    return guardKeyStore(keyStore, closeConnection);
  }
  try {
    if (url.startsWith('sqlite:')) return guardKeyStore(new SqlKeyStore(await createSqliteDriver({ database: url.slice('sqlite:'.length) })));
    if (/^postgres(ql)?:\/\//.test(url)) return guardKeyStore(new SqlKeyStore(await createPostgresDriver({ database: url, ...(schema === undefined ? {} : { schema }) })));
  } catch (error) {
    throw asKeyStoreError(error, 'opening it');
  }
  throw new KeystrataError('CONFIG_INVALID', URL_FORMS);
}

/** An environment variable name as people write them (`KEYSTRATA_HSM_PIN`): only such a name is shown. */
const looksLikeVariableName = (name: string): boolean => /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/.test(name);
/** A PIN file named as people name them (`dev.pin`, with an extension): only such a path is shown. */
const looksLikePath = (path: string): boolean => /\.\w+$/.test(basename(path));

/**
 * Fails, before the HSM is touched, when the PIN source is empty: with a message that names the
 * variable or file only when it looks like one, since a PIN pasted into `pin.env` or `pin.file`
 * would otherwise be printed.
 */
export function checkPinSource(source: PinSource, env: NodeJS.ProcessEnv): void {
  if (typeof source === 'function') return;
  const hint = 'Set hsm.pin to { "env": "VARIABLE_NAME" } or { "file": "path" } naming where the PIN is, never the PIN itself.';
  if ('env' in source && !env[source.env]) {
    const name = looksLikeVariableName(source.env) ? `environment variable ${source.env}` : 'the environment variable hsm.pin.env names (name withheld: it does not look like a variable name)';
    throw new KeystrataError('CONFIG_INVALID', `No HSM PIN found: ${name} is not set.`, { hint });
  }
  if ('file' in source && !existsSync(source.file)) {
    const name = looksLikePath(source.file) ? `file ${source.file}` : 'the file hsm.pin.file names (path withheld: it does not look like a path)';
    throw new KeystrataError('CONFIG_INVALID', `No HSM PIN found: ${name} does not exist.`, { hint });
  }
}

/**
 * Opens the HSM root key the config names (module, token, PIN source, SoftHSM2 config), or, with
 * `rootKey.members`, the root of several members (docs/hsm-cluster.md).
 *
 * @example
 * ```ts
 * import { loadConfig, openRootKey } from '@keystrata/cli';
 * const rootKey = await openRootKey(loadConfig(undefined));
 * try {
 *   // …
 * } finally {
 *   await rootKey.close();
 * }
 * ```
 */
export async function openRootKey(resolved: ResolvedConfig): Promise<Pkcs11RootKey | MemberRootKey> {
  if (resolved.config.rootKey !== undefined) return openMemberRootKey(resolved);
  const { hsm = {} } = resolved.config;
  const module = hsm.module ?? findSoftHsmModule();
  if (module === undefined) throw new KeystrataError('CONFIG_INVALID', 'No PKCS#11 module configured: set hsm.module or KEYSTRATA_PKCS11_MODULE (or run `keystrata hsm init-dev`).');
  if (hsm.tokenLabel === undefined && hsm.slotIndex === undefined) {
    throw new KeystrataError('CONFIG_INVALID', 'No HSM token configured: set hsm.tokenLabel or KEYSTRATA_TOKEN_LABEL (or run `keystrata hsm init-dev`).');
  }
  const pin = pinSource(resolved.config);
  checkPinSource(pin, process.env);
  return Pkcs11RootKey.open({
    module,
    ...(hsm.tokenLabel !== undefined ? { tokenLabel: hsm.tokenLabel } : { slotIndex: hsm.slotIndex }),
    pin,
    ...(hsm.softhsm2Conf ? { moduleEnvironment: { SOFTHSM2_CONF: hsm.softhsm2Conf } } : {}),
    ...(hsm.libraryParameters ? { libraryParameters: hsm.libraryParameters } : {}),
  });
}

/**
 * Opens the HSM root key and the key store, and returns the hierarchy over them. `actor` is
 * recorded in audit records (default: the CLI's `cli:<OS user>`).
 *
 * @example
 * ```ts
 * import { loadConfig, openHierarchy } from '@keystrata/cli';
 * const hierarchy = await openHierarchy(loadConfig(undefined), 'ops:nightly-job');
 * try {
 *   console.log(await hierarchy.status());
 * } finally {
 *   await hierarchy.close();
 * }
 * ```
 */
export async function openHierarchy(resolved: ResolvedConfig, actor: string = cliActor()): Promise<KeyHierarchy> {
  const { keyring, cache, cmkLabelPrefix } = resolved.config;
  const rootKey = await openRootKey(resolved);
  let keyStore: KeyStore | undefined;
  try {
    keyStore = await openKeyStore(resolved);
    return await KeyHierarchy.create({ rootKey, keyStore, ...(keyring ? { keyring } : {}), ...(cache ? { cache } : {}), ...(cmkLabelPrefix ? { cmkLabelPrefix } : {}), actor });
  } catch (error) {
    await keyStore?.close().catch(() => undefined);
    await rootKey.close();
    throw error;
  }
}
