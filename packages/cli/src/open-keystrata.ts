import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { KeystrataError, type KeyHierarchy } from '@keystrata/core';
import { refuseUnknownKeys } from '@keystrata/core/adapter';
import { loadConfig } from './config.js';
import { openHierarchy } from './open.js';

/**
 * Options of {@link openKeystrata}.
 *
 * @example
 * ```ts
 * const options: OpenKeystrataOptions = { config: './keystrata.config.json', actor: 'billing-api' };
 * ```
 */
export interface OpenKeystrataOptions {
  /**
   * Path of the config file `keystrata init` wrote (relative to the working directory); default
   * `./keystrata.config.json`. A path given here must exist; without one, a missing default file
   * leaves the environment variables alone to configure the HSM and the key store.
   */
  readonly config?: string;
  /** Environment the overrides are read from (KEYSTRATA_*, SOFTHSM2_CONF); default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Recorded as the actor of audit records; default `app`. */
  readonly actor?: string;
}

const OPTION_KEYS = ['config', 'env', 'actor'];

/**
 * Opens the key hierarchy of `keystrata.config.json` in the application, exactly as the
 * `keystrata` CLI does (the same loader): the PKCS#11 module and token, the PIN source
 * (`pin: { env }` or `pin: { file }`, relative to the file), SoftHSM2's configuration
 * (`hsm.softhsm2Conf`, or SOFTHSM2_CONF, passed as the module's `moduleEnvironment`), the key store
 * (`sqlite:`, `postgres://`, or `mongodb://` with @keystrata/mongoose installed), the keyring, the
 * cache and the CMK label prefix; the KEYSTRATA_* environment variables override the file. Close the
 * hierarchy when the application stops (it closes the root key and the key store).
 *
 * @example
 * ```ts
 * // after `npx keystrata hsm init-dev && npx keystrata init`
 * import { openKeystrata } from '@keystrata/cli/config';
 * const hierarchy = await openKeystrata({ config: './keystrata.config.json' });
 * ```
 */
export async function openKeystrata(options: OpenKeystrataOptions = {}): Promise<KeyHierarchy> {
  if (typeof options !== 'object' || options === null) throw new KeystrataError('CONFIG_INVALID', 'openKeystrata takes an options object: { config?, env?, actor? }.');
  refuseUnknownKeys(options, OPTION_KEYS, 'openKeystrata option');
  if (options.config !== undefined && (typeof options.config !== 'string' || !existsSync(resolve(options.config)))) {
    throw new KeystrataError('CONFIG_INVALID', 'openKeystrata: the config file named by the config option does not exist.', {
      hint: 'Pass the path of keystrata.config.json (relative to the working directory), or run `keystrata hsm init-dev && keystrata init` to create it.',
      details: { config: typeof options.config === 'string' ? resolve(options.config) : typeof options.config },
    });
  }
  if (options.actor !== undefined && (typeof options.actor !== 'string' || options.actor === '')) throw new KeystrataError('CONFIG_INVALID', 'openKeystrata: actor must be a non-empty string.');
  return openHierarchy(loadConfig(options.config, options.env ?? process.env), options.actor ?? 'app');
}

export { loadConfig, CONFIG_FILE, type KeystrataConfig, type ResolvedConfig } from './config.js';
