import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keystrata } from './run-cli.js';

const ENTRY = new URL('../dist/open-keystrata.js', import.meta.url).href;

/** A plain `node` process in `cwd` as an application would run (no KEYSTRATA_* or SOFTHSM2_CONF set). */
function runApp(cwd: string, code: string): { status: number; stdout: string; stderr: string } {
  const env = { ...process.env };
  for (const name of ['SOFTHSM2_CONF', 'KEYSTRATA_PKCS11_MODULE', 'KEYSTRATA_TOKEN_LABEL', 'KEYSTRATA_PIN_ENV', 'KEYSTRATA_DATABASE_URL', 'KEYSTRATA_KEYRING']) delete env[name];
  const result = spawnSync(process.execPath, ['--input-type', 'module', '--eval', code], { cwd, env, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

describe('openKeystrata: one configuration for the CLI and the application', () => {
  it('issue 13 §1: after keystrata hsm init-dev && keystrata init, the application opens the same root key and key store with one call', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keystrata-open-'));
    expect(keystrata(dir, ['hsm', 'init-dev']).status).toBe(0);
    const init = keystrata(dir, ['init']);
    expect(init.status, init.stderr).toBe(0);

    const app = runApp(
      dir,
      `
      import { openKeystrata } from ${JSON.stringify(ENTRY)};
      const hierarchy = await openKeystrata({ config: './keystrata.config.json' });
      try {
        const context = { model: 'Patient', field: 'ssn', recordId: 'p_1', segment: 'tenant:acme' };
        const stored = await hierarchy.encryptValue('123-45-6789', context);
        const status = await hierarchy.status();
        console.log(JSON.stringify({ stored, cmks: status.keyrings.map((k) => [k.keyring, k.cmks.length]) }));
      } finally {
        await hierarchy.close();
      }`,
    );
    expect(app.status, app.stderr).toBe(0);
    const { stored, cmks } = JSON.parse(app.stdout) as { stored: string; cmks: Array<[string, number]> };
    expect(stored).toMatch(/^ks1\./);
    // The same keyring and its one CMK: no second key store or CMK v1 was created by the application.
    expect(cmks).toEqual([['default', 1]]);
    // The CLI reads what the application wrote: the same root key and key store.
    const decrypt = keystrata(dir, ['decrypt', '--context', 'Patient.ssn#p_1', '--segment', 'tenant:acme'], stored);
    expect(decrypt.status, decrypt.stderr).toBe(0);
    expect(decrypt.stdout.trim()).toBe('123-45-6789');
  });

  it('issue 13 §1: openKeystrata refuses a missing config file and unknown options by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keystrata-open-missing-'));
    writeFileSync(join(dir, 'placeholder.txt'), '');
    const app = runApp(
      dir,
      `
      import { openKeystrata } from ${JSON.stringify(ENTRY)};
      const codes = [];
      for (const options of [{ config: './keystrata.config.json' }, { confg: './keystrata.config.json' }]) {
        await openKeystrata(options).then(() => codes.push('opened'), (e) => codes.push(e.code + ' ' + e.message));
      }
      console.log(JSON.stringify(codes));`,
    );
    expect(app.status, app.stderr).toBe(0);
    const [missing, misspelt] = JSON.parse(app.stdout) as string[];
    expect(missing).toMatch(/^CONFIG_INVALID CONFIG_INVALID: .*does not exist.*keystrata hsm init-dev && keystrata init/);
    expect(misspelt).toMatch(/^CONFIG_INVALID CONFIG_INVALID: Unknown openKeystrata option key "confg" \(did you mean "config"\?\)/);
  });
});
