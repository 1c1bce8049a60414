import './provided.js';
export { repoRoot, vectorsDir } from './repo-root.js';
export { loadWycheproof, loadRfcKeyWrapVectors, hex, type WycheproofCase, type WycheproofGroup } from './vectors.js';
export { createSoftHsmToken, findSoftHsmModule, SOFTHSM_MODULE_CANDIDATES, type SoftHsmToken } from './softhsm.js';
export { startPostgres, createDatabase, freePort, type PostgresServer } from './postgres.js';
export { runReadmeExample } from './readme-example.js';
export { sqliteRaw, postgresRaw, type RawDb } from './raw-db.js';
export { startRestartablePostgres, type RestartablePostgres } from './restartable-postgres.js';
export { createNssSoftoken, findNssSoftokenModule, nssLibraryParameters, NSS_SOFTOKEN_CANDIDATES, type NssSoftoken } from './nss-softoken.js';
