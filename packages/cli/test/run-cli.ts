import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/** Result of one `keystrata` process. */
export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `keystrata` binary in `cwd` (a real process: own PKCS#11 module state). */
export function keystrata(cwd: string, args: string[], input = ''): CliResult {
  const env = { ...process.env };
  for (const name of ['SOFTHSM2_CONF', 'KEYSTRATA_PKCS11_MODULE', 'KEYSTRATA_TOKEN_LABEL', 'KEYSTRATA_PIN_ENV', 'KEYSTRATA_DATABASE_URL', 'KEYSTRATA_KEYRING']) delete env[name];
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, input, encoding: 'utf8', env });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
