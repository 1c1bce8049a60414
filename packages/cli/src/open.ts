import { createPostgresDriver, createSqliteDriver, KeyHierarchy, KeystrataError, Pkcs11RootKey, SqlKeyStore, type KeyStore } from '@keystrata/core';
import { pinSource, type ResolvedConfig } from './config.js';
import { findSoftHsmModule } from './softhsm.js';

/** Opens the key store named by the config: `sqlite:<path>` or `postgres://…`. */
export async function openKeyStore(resolved: ResolvedConfig): Promise<KeyStore> {
  const url = resolved.config.keyStore?.url;
  if (url === undefined) throw new KeystrataError('CONFIG_INVALID', 'No key store configured: run `keystrata init` or set KEYSTRATA_DATABASE_URL.');
  if (url.startsWith('sqlite:')) return new SqlKeyStore(await createSqliteDriver({ database: url.slice('sqlite:'.length) }));
  if (/^postgres(ql)?:\/\//.test(url)) return new SqlKeyStore(await createPostgresDriver({ database: url }));
  throw new KeystrataError('CONFIG_INVALID', 'keyStore.url must be sqlite:<path> or postgres://…');
}

/** Opens the HSM root key the config names (module, token, PIN source, SoftHSM2 config). */
export async function openRootKey(resolved: ResolvedConfig): Promise<Pkcs11RootKey> {
  const { hsm = {} } = resolved.config;
  const module = hsm.module ?? findSoftHsmModule();
  if (module === undefined) throw new KeystrataError('CONFIG_INVALID', 'No PKCS#11 module configured: set hsm.module or KEYSTRATA_PKCS11_MODULE (or run `keystrata hsm init-dev`).');
  if (hsm.tokenLabel === undefined && hsm.slotIndex === undefined) {
    throw new KeystrataError('CONFIG_INVALID', 'No HSM token configured: set hsm.tokenLabel or KEYSTRATA_TOKEN_LABEL (or run `keystrata hsm init-dev`).');
  }
  return Pkcs11RootKey.open({
    module,
    ...(hsm.tokenLabel !== undefined ? { tokenLabel: hsm.tokenLabel } : { slotIndex: hsm.slotIndex }),
    pin: pinSource(resolved.config),
    ...(hsm.softhsm2Conf ? { moduleEnvironment: { SOFTHSM2_CONF: hsm.softhsm2Conf } } : {}),
  });
}

/** Opens the HSM root key and the key store, and returns the hierarchy over them. */
export async function openHierarchy(resolved: ResolvedConfig): Promise<KeyHierarchy> {
  const { keyring, cache } = resolved.config;
  const rootKey = await openRootKey(resolved);
  try {
    const keyStore = await openKeyStore(resolved);
    return await KeyHierarchy.create({ rootKey, keyStore, ...(keyring ? { keyring } : {}), ...(cache ? { cache } : {}), actor: `cli:${process.env.USER ?? 'unknown'}` });
  } catch (error) {
    await rootKey.close();
    throw error;
  }
}
