import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { KeystrataError, type PinSource } from '@keystrata/core';
import { checkConfig } from './config-check.js';

/**
 * `keystrata.config.json`: where the HSM and the key store are. Paths are relative to the file.
 *
 * @example
 * ```ts
 * import { CONFIG_FILE, writeConfig, type KeystrataConfig } from '@keystrata/cli';
 * const config: KeystrataConfig = {
 *   hsm: { module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'keystrata', pin: { env: 'KEYSTRATA_HSM_PIN' } },
 *   keyStore: { url: 'postgres://app@db.internal/app', schema: 'keystrata' },
 * };
 * writeConfig(CONFIG_FILE, config);
 * ```
 */
export interface KeystrataConfig {
  readonly hsm?: {
    readonly module?: string;
    readonly tokenLabel?: string;
    readonly slotIndex?: number;
    readonly pin?: { readonly env: string } | { readonly file: string };
    /** SoftHSM2 only: its configuration file (set as SOFTHSM2_CONF before the module loads). */
    readonly softhsm2Conf?: string;
    /** The module's C_Initialize library parameters (NSS softoken: `configdir='sql:…' …`); docs/hsm-portability.md. */
    readonly libraryParameters?: string;
  };
  /**
   * `url`: `sqlite:<path>` (relative to the file), `postgres://…`, or `mongodb://host/db` for the
   * `MongoKeyStore` of a Mongoose app (needs @keystrata/mongoose and mongoose installed);
   * `prefix`: that store's collection prefix, when the app set one (default `keystrata_`);
   * `schema`: PostgreSQL only, the schema of the key tables when the app set one (`createPostgresDriver({ schema })`).
   */
  readonly keyStore?: { readonly url?: string; readonly prefix?: string; readonly schema?: string };
  readonly keyring?: string;
  /** HSM label prefix of new CMKs; set it to the application's `cmkLabelPrefix` if it has one. */
  readonly cmkLabelPrefix?: string;
  readonly cache?: { readonly maxEntries?: number; readonly maxAgeMs?: number; readonly maxUses?: number; readonly revocationCheckMs?: number };
  /** A root of several HSM members instead of the one `hsm` token (docs/hsm-cluster.md); `hsm` then only gives the default module. */
  readonly rootKey?: {
    readonly kind: 'cloned' | 'independent';
    readonly probeIntervalMs?: number;
    readonly members: ReadonlyArray<{
      readonly name: string;
      readonly module?: string;
      readonly tokenLabel?: string;
      readonly slotIndex?: number;
      readonly pin: { readonly env: string } | { readonly file: string };
      readonly softhsm2Conf?: string;
    }>;
  };
  /**
   * DEK re-encryption workers (`keystrata worker`, `rotate dek --workers`): `module`, a module
   * (relative to the file) exporting `reencryptionHook({ hierarchy })` that returns the
   * application's re-encryption hook; `schema`, the PostgreSQL schema of the job tables (default
   * `keystrata_jobs`); `leaseSeconds`, how long a worker holds a batch (default 60); `batchSize`
   * (default 500).
   */
  readonly worker?: { readonly module?: string; readonly schema?: string; readonly leaseSeconds?: number; readonly batchSize?: number };
}

/**
 * A loaded configuration with absolute paths and environment overrides applied.
 *
 * @example
 * ```ts
 * import { loadConfig, type ResolvedConfig } from '@keystrata/cli';
 * const { file, exists, config }: ResolvedConfig = loadConfig('/srv/app/keystrata.config.json');
 * if (!exists) console.error(`${file} not found: run keystrata init`);
 * config.keyStore?.url; // KEYSTRATA_DATABASE_URL when set, else the file's (a sqlite: path made absolute)
 * ```
 */
export interface ResolvedConfig {
  readonly file: string;
  readonly dir: string;
  readonly exists: boolean;
  readonly config: KeystrataConfig;
}

/**
 * The config file `loadConfig` reads from the current directory when no `--config` is given.
 *
 * @example
 * ```ts
 * import { join } from 'node:path';
 * import { CONFIG_FILE, loadConfig } from '@keystrata/cli';
 * const resolved = loadConfig(join('/srv/app', CONFIG_FILE));
 * ```
 */
export const CONFIG_FILE = 'keystrata.config.json';

const abs = (dir: string, path: string | undefined): string | undefined => (path === undefined || isAbsolute(path) ? path : resolve(dir, path));

/**
 * Reads `keystrata.config.json` (or `--config`), then applies environment overrides:
 * KEYSTRATA_PKCS11_MODULE, KEYSTRATA_TOKEN_LABEL, KEYSTRATA_PIN_ENV (name of the variable holding
 * the PIN), KEYSTRATA_DATABASE_URL, KEYSTRATA_KEYRING, SOFTHSM2_CONF.
 *
 * @example
 * ```ts
 * import { loadConfig } from '@keystrata/cli';
 * const resolved = loadConfig(undefined); // ./keystrata.config.json plus KEYSTRATA_* overrides
 * if (!resolved.exists) console.error('run `keystrata init` first');
 * ```
 */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const file = resolve(path ?? join(process.cwd(), CONFIG_FILE));
  const dir = dirname(file);
  const exists = existsSync(file);
  const raw = exists ? readConfigFile(file) : {};
  const hsm = raw.hsm ?? {};
  const pin = env.KEYSTRATA_PIN_ENV ? { env: env.KEYSTRATA_PIN_ENV } : hsm.pin && 'file' in hsm.pin ? { file: abs(dir, hsm.pin.file)! } : hsm.pin;
  const config: KeystrataConfig = {
    ...raw,
    hsm: {
      ...hsm,
      module: env.KEYSTRATA_PKCS11_MODULE || hsm.module,
      tokenLabel: env.KEYSTRATA_TOKEN_LABEL || hsm.tokenLabel,
      pin: pin ?? { env: 'KEYSTRATA_HSM_PIN' },
      softhsm2Conf: env.SOFTHSM2_CONF || abs(dir, hsm.softhsm2Conf),
    },
    keyStore: { ...raw.keyStore, url: env.KEYSTRATA_DATABASE_URL || sqliteRelative(dir, raw.keyStore?.url) },
    keyring: env.KEYSTRATA_KEYRING || raw.keyring,
    ...(raw.rootKey === undefined
      ? {}
      : {
          rootKey: {
            ...raw.rootKey,
            members: raw.rootKey.members.map((m) => ({ ...m, pin: 'file' in m.pin ? { file: abs(dir, m.pin.file)! } : m.pin, ...(m.softhsm2Conf ? { softhsm2Conf: abs(dir, m.softhsm2Conf) } : {}) })),
          },
        }),
  };
  return { file, dir, exists, config };
}

function sqliteRelative(dir: string, url: string | undefined): string | undefined {
  if (url === undefined || !url.startsWith('sqlite:')) return url;
  return `sqlite:${abs(dir, url.slice('sqlite:'.length))}`;
}

/** The parsed and checked config file; its text never reaches a message (it may hold a misplaced PIN). */
function readConfigFile(file: string): KeystrataConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // The parser's message quotes the text around the fault: dropped on purpose.
    throw new KeystrataError('CONFIG_INVALID', `${file} is not valid JSON (the parser's message is withheld: it quotes the file).`, {
      hint: 'Fix the JSON syntax of the config file (quotes, commas, braces).',
    });
  }
  checkConfig(file, raw);
  return raw;
}

/**
 * Merges `patch` into the config file (creating it), keeping what is there.
 *
 * @example
 * ```ts
 * import { writeConfig } from '@keystrata/cli';
 * writeConfig('keystrata.config.json', { keyStore: { url: 'sqlite:./keys.db' } });
 * ```
 */
export function writeConfig(file: string, patch: KeystrataConfig): void {
  const current = existsSync(file) ? readConfigFile(file) : {};
  const merged = { ...current, ...patch, hsm: { ...current.hsm, ...patch.hsm }, keyStore: { ...current.keyStore, ...patch.keyStore } };
  writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
}

/** The PIN source of a config. */
export function pinSource(config: KeystrataConfig): PinSource {
  return config.hsm?.pin ?? { env: 'KEYSTRATA_HSM_PIN' };
}
