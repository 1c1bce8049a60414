import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

describe('keystrata hsm init-dev (issue 11 §4)', () => {
  it('issue 11 §4: hsm init-dev passes no PIN on any command line (it spawns no softhsm2-util --pin) and the token works', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keystrata-init-dev-'));
    // A spy ahead of the real tools on PATH: any softhsm2-util the CLI starts records its arguments.
    const spyBin = join(dir, 'spy-bin');
    const spyLog = join(dir, 'spawned-argv.log');
    mkdirSync(spyBin);
    writeFileSync(join(spyBin, 'softhsm2-util'), `#!/bin/sh\necho "softhsm2-util $*" >> '${spyLog}'\nexit 1\n`);
    chmodSync(join(spyBin, 'softhsm2-util'), 0o755);
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${spyBin}:${process.env.PATH ?? ''}` };
    for (const name of ['SOFTHSM2_CONF', 'KEYSTRATA_PKCS11_MODULE', 'KEYSTRATA_TOKEN_LABEL', 'KEYSTRATA_PIN_ENV', 'KEYSTRATA_DATABASE_URL', 'KEYSTRATA_KEYRING']) delete env[name];
    const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env });

    const init = run(['hsm', 'init-dev']);
    expect(init.status, init.stderr).toBe(0);
    const pin = readFileSync(join(dir, '.keystrata', 'dev.pin'), 'utf8').trim();
    const soPin = readFileSync(join(dir, '.keystrata', 'dev.so-pin'), 'utf8').trim();
    expect(pin.length).toBeGreaterThan(8);
    const spawned = existsSync(spyLog) ? readFileSync(spyLog, 'utf8') : '';
    expect(spawned).toBe('');
    expect(spawned).not.toContain(pin);
    expect(spawned).not.toContain(soPin);
    expect(statSync(join(dir, '.keystrata', 'dev.pin')).mode & 0o077).toBe(0);
    // The token was initialised with that PIN: the CLI logs in with it and provisions.
    const provision = run(['init']);
    expect(provision.status, provision.stderr).toBe(0);
    const status = run(['status', '--json']);
    expect(JSON.parse(status.stdout).keyrings[0]).toMatchObject({ keyring: 'default', cmks: [{ version: 1, state: 'primary' }] });
    // Run again: the token is kept, nothing is re-initialised.
    const again = run(['hsm', 'init-dev']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Kept existing/);
    expect(readFileSync(join(dir, '.keystrata', 'dev.pin'), 'utf8').trim()).toBe(pin);
  });
});
