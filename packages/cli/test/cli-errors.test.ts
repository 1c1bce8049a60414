import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const CANARY = 'CANARY-PIN-493817';

/** The built binary in `cwd`, with `env` changes (a value of undefined unsets the variable). */
function run(cwd: string, args: string[], env: Record<string, string | undefined> = {}) {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['SOFTHSM2_CONF', 'KEYSTRATA_PKCS11_MODULE', 'KEYSTRATA_TOKEN_LABEL', 'KEYSTRATA_PIN_ENV', 'KEYSTRATA_DATABASE_URL', 'KEYSTRATA_KEYRING']) delete base[name];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: base, timeout: 60_000 });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

const errorOf = (stderr: string): { code: string; message: string } => JSON.parse(stderr).error;

describe('CLI error codes and messages (SoftHSM2 + SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-cli-errors-'));
  beforeAll(() => {
    expect(run(dir, ['hsm', 'init-dev']).status).toBe(0);
    const init = run(dir, ['init'], { USER: undefined });
    expect(init.status, init.stderr).toBe(0);
  });

  it('issue 11 §5: with USER unset the audit trail names the OS user, not cli:unknown', () => {
    const list = run(dir, ['audit', 'list', '--json'], { USER: undefined, LOGNAME: undefined });
    expect(list.status, list.stderr).toBe(0);
    const actors = new Set((JSON.parse(list.stdout) as Array<{ actor: string }>).map((r) => r.actor));
    expect(actors).toEqual(new Set([`cli:${userInfo().username}`]));
    expect(actors.has('cli:unknown')).toBe(false);
  });

  it('issue 11 §5: a USER variable cannot make the CLI record another actor', () => {
    expect(run(dir, ['rotate', 'kek'], { USER: 'someone-else' }).status).toBe(0);
    const records = JSON.parse(run(dir, ['audit', 'list', '--json']).stdout) as Array<{ event: string; actor: string }>;
    expect(records.at(-1)).toMatchObject({ event: 'rotate', actor: `cli:${userInfo().username}` });
  });

  it.each([
    ['a directory that does not exist', 'sqlite:/nonexistent-keystrata-dir/keys.db'],
    ['a file that is not a database', 'sqlite:/etc/hostname'],
    ['a PostgreSQL server that is not listening', `postgres://keystrata:${CANARY}@127.0.0.1:9/keys`],
  ])('issue 11 §4: a key store at %s is KEYSTORE_UNAVAILABLE, not INTERNAL', (_what, url) => {
    const r = run(dir, ['status', '--json'], { KEYSTRATA_DATABASE_URL: url });
    expect(r.status).toBe(1);
    const error = errorOf(r.stderr);
    expect(error.code).toBe('KEYSTORE_UNAVAILABLE');
    expect(error.message).toMatch(/check keyStore\.url/i);
    expect(r.stderr).not.toContain(CANARY);
  });

  it.each([[['status', '--bogus']], [['status', `--bogus=${CANARY}`]], [['status', '--json=yes']], [['audit', 'list', '--limit']], [['rotate', 'kek', `-${CANARY}`]]])(
    'issue 11 §4: bad flags %j are CONFIG_INVALID (exit 2) and quote no value',
    (args) => {
      const r = run(dir, [...args, '--json']);
      expect(r.status).toBe(2);
      expect(errorOf(r.stderr).code).toBe('CONFIG_INVALID');
      expect(r.stderr).not.toContain(CANARY);
      expect(r.stderr).not.toContain('ERR_PARSE_ARGS');
    },
  );

  it('issue 11 §4: an unknown flag is named (without its value)', () => {
    const r = run(dir, ['status', `--pin=${CANARY}`]);
    expect(r.stderr).toMatch(/^error: CONFIG_INVALID: Unknown flag --pin\./);
    expect(r.stderr).not.toContain(CANARY);
  });

  it('issue 13 §1: a misspelt keystore in the config file is refused by name, before any key store is opened or created', () => {
    const work = mkdtempSync(join(tmpdir(), 'keystrata-cli-typo-'));
    const file = join(work, 'keystrata.config.json');
    writeFileSync(file, JSON.stringify({ hsm: { tokenLabel: 'keystrata-dev' }, keystore: { url: 'sqlite:other-keys.db' } }));
    const r = run(work, ['init', '--config', file]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/CONFIG_INVALID: .*unknown key "keystore" \(did you mean "keyStore"\?\)/);
    expect(existsSync(join(work, 'other-keys.db'))).toBe(false);
    expect(existsSync(join(work, '.keystrata'))).toBe(false);
  });

  it('issue 13 §1: unknown keys inside hsm, keyStore and cache are named; a PIN pasted as a key name is not echoed', () => {
    const file = join(dir, `typos-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ hsm: { tokenlabel: 'keystrata-dev', [CANARY]: 1 }, keyStore: { URL: 'sqlite:x.db' }, cache: { maxEntry: 5 } }));
    const r = run(dir, ['status', '--config', file]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/"hsm\.tokenlabel" \(did you mean "tokenLabel"\?\)/);
    expect(r.stderr).toMatch(/a key that is not shown in hsm/);
    expect(r.stderr).toMatch(/"keyStore\.URL" \(did you mean "url"\?\)/);
    expect(r.stderr).toMatch(/"cache\.maxEntry" \(did you mean "maxEntries"\?\)/);
    expect(r.stderr).not.toContain(CANARY);
  });

  const badConfigs: Array<[string, string]> = [
    ['invalid JSON quoting the PIN', `{ "hsm": { "tokenLabel": "keystrata-dev", "pin": '${CANARY}' } }`],
    ['invalid JSON with the PIN after a stray comma', `{ "hsm": { "pin": { "env": "X" }, }, "pin": "${CANARY}" `],
    ['the PIN as hsm.pin', JSON.stringify({ hsm: { tokenLabel: 'keystrata-dev', pin: CANARY } })],
    ['the PIN as a number', `{ "hsm": { "tokenLabel": "keystrata-dev", "pin": 493817 } }`.replace('493817', '4938170001')],
    ['the PIN beside env', JSON.stringify({ hsm: { tokenLabel: 'keystrata-dev', pin: { env: 'KEYSTRATA_HSM_PIN', value: CANARY } } })],
    [
      'the PIN as hsm.pin.env',
      JSON.stringify({ hsm: { tokenLabel: 'keystrata-dev', softhsm2Conf: '.keystrata/softhsm2.conf', pin: { env: CANARY } }, keyStore: { url: 'sqlite:.keystrata/keys.db' } }),
    ],
    [
      'the PIN as hsm.pin.file',
      JSON.stringify({ hsm: { tokenLabel: 'keystrata-dev', softhsm2Conf: '.keystrata/softhsm2.conf', pin: { file: CANARY } }, keyStore: { url: 'sqlite:.keystrata/keys.db' } }),
    ],
    ['the PIN as the token label', JSON.stringify({ hsm: { tokenLabel: { pin: CANARY } } })],
    ['the PIN as the keyring', JSON.stringify({ keyring: 4938170001 })],
  ];

  it.each(badConfigs)('issue 11 §4: loadConfig never puts a PIN in a message: %s', (_what, text) => {
    const file = join(dir, `bad-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, text);
    for (const args of [
      ['status', '--config', file],
      ['status', '--json', '--config', file],
    ]) {
      const r = run(dir, args);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/CONFIG_INVALID/);
      expect(r.stderr).not.toContain(CANARY);
      expect(r.stderr).not.toContain('4938170001');
      expect(r.stdout).not.toContain(CANARY);
    }
  });
});
