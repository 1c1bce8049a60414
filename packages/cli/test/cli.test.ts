import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { keystrata } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'keystrata-cli-'));
const ok = (args: string[], input = '') => {
  const r = keystrata(dir, args, input);
  expect(r.stderr, `keystrata ${args.join(' ')}`).not.toMatch(/^error/m);
  expect(r.status, `keystrata ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
const fails = (args: string[], input = '') => {
  const r = keystrata(dir, args, input);
  expect(r.status, `keystrata ${args.join(' ')} should fail`).not.toBe(0);
  return r.stderr;
};
const dekOf = (envelope: string) => Buffer.from(envelope.trim().slice(4), 'base64url').toString('hex', 2, 18);
const kekVersionOf = (envelope: string): number => {
  const db = new Database(join(dir, '.keystrata', 'keys.db'), { readonly: true });
  const row = db.prepare('SELECT kek_version FROM keystrata_dek WHERE id = ?').get(dekOf(envelope)) as { kek_version: number };
  db.close();
  return row.kek_version;
};

describe('keystrata CLI against SoftHSM2 + SQLite, in an empty directory', () => {
  let a1: string;
  let b1: string;
  beforeAll(() => {
    ok(['hsm', 'init-dev']);
    ok(['init']);
  });

  it('leaves a working setup: config, token and key store inside the directory', () => {
    const config = JSON.parse(readFileSync(join(dir, 'keystrata.config.json'), 'utf8'));
    expect(config).toMatchObject({
      hsm: { tokenLabel: 'keystrata-dev', pin: { file: '.keystrata/dev.pin' }, softhsm2Conf: '.keystrata/softhsm2.conf' },
      keyStore: { url: 'sqlite:.keystrata/keys.db' },
    });
    const status = JSON.parse(ok(['status', '--json']));
    expect(status.keyrings[0]).toMatchObject({ keyring: 'default', cmks: [{ version: 1, state: 'primary' }], keks: [{ version: 1, state: 'primary', cmkVersion: 1 }] });
    expect(ok(['init'])).toMatch(/already present/);
  });

  it('round-trips encrypt and decrypt through stdin and stdout', () => {
    a1 = ok(['encrypt', '--context', 'Patient.ssn#p1', '--segment', 'tenant-a'], 'CANARY-123-45-6789');
    expect(a1).toMatch(/^ks1\.[A-Za-z0-9_-]+\n$/);
    expect(a1).not.toContain('CANARY');
    expect(ok(['decrypt', '--context', 'Patient.ssn#p1', '--segment', 'tenant-a'], a1)).toBe('CANARY-123-45-6789');
    b1 = ok(['encrypt', '--context', 'Patient.ssn#p2', '--segment', 'tenant-b'], 'CANARY-other');
    expect(JSON.parse(ok(['decrypt', '--json', '--context', 'Patient.ssn#p2'], b1))).toEqual({ value: 'CANARY-other' });
  });

  it('keeps old values readable after rotate cmk and rotate kek; new values use the new versions', () => {
    const rotation = keystrata(dir, ['rotate', 'cmk']);
    expect(rotation.stdout).toMatch(/now v2; 1 KEK/);
    expect(rotation.stderr).toBe('rewrap KEKs: 1/1\n'); // progress as plain lines when stderr is not a terminal
    expect(ok(['rotate', 'kek'])).toMatch(/now v2/);
    expect(ok(['decrypt', '--context', 'Patient.ssn#p1'], a1)).toBe('CANARY-123-45-6789');
    const c1 = ok(['encrypt', '--context', 'Patient.ssn#p3', '--segment', 'tenant-c'], 'CANARY-new');
    expect(kekVersionOf(c1)).toBe(2);
    expect(kekVersionOf(a1)).toBe(1);
    const status = JSON.parse(ok(['status', '--json']));
    expect(status.keyrings[0].keks).toEqual([expect.objectContaining({ version: 1, state: 'enabled', cmkVersion: 2 }), expect.objectContaining({ version: 2, state: 'primary', cmkVersion: 2 })]);
    expect(JSON.parse(ok(['rewrap', '--json']))).toMatchObject({ kekVersion: 2, rewrapped: 2 });
    expect(kekVersionOf(a1)).toBe(2);
    expect(ok(['retire', 'cmk', '--version', '1'])).toMatch(/retired/);
    expect(ok(['decrypt', '--context', 'Patient.ssn#p1'], a1)).toBe('CANARY-123-45-6789');
  });

  it('after revoke dek for a segment its values fail with KEY_DISABLED; other segments still decrypt', () => {
    ok(['revoke', 'dek', '--segment', 'tenant-a']);
    expect(fails(['decrypt', '--context', 'Patient.ssn#p1'], a1)).toMatch(/^error: KEY_DISABLED/);
    expect(ok(['decrypt', '--context', 'Patient.ssn#p2'], b1)).toBe('CANARY-other');
    ok(['enable', 'dek', '--segment', 'tenant-a']);
    expect(ok(['decrypt', '--context', 'Patient.ssn#p1'], a1)).toBe('CANARY-123-45-6789');
  });

  it('fails a flipped character with CIPHERTEXT_TAMPERED or CIPHERTEXT_MALFORMED, and a moved value too', () => {
    const text = b1.trim();
    for (const i of [4, 10, 30, text.length - 1]) {
      const flipped = text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1);
      expect(fails(['decrypt', '--context', 'Patient.ssn#p2'], flipped)).toMatch(/^error: CIPHERTEXT_(TAMPERED|MALFORMED)/);
    }
    expect(fails(['decrypt', '--context', 'Patient.ssn#p1'], b1)).toMatch(/^error: CIPHERTEXT_TAMPERED/);
    expect(fails(['decrypt', '--context', 'Patient.ssn#p2', '--segment', 'tenant-a'], b1)).toMatch(/^error: CIPHERTEXT_TAMPERED/);
    expect(fails(['decrypt', '--context', 'Patient.ssn#p2'], 'CANARY-plaintext')).toMatch(/^error: CIPHERTEXT_MALFORMED/);
  });

  it('guards destruction: CMK revocation needs a dry run and confirmation naming it; destroy needs --confirm', () => {
    expect(JSON.parse(ok(['revoke', 'cmk', '--dry-run', '--json']))).toMatchObject({ dryRun: true, keks: 2 });
    expect(fails(['revoke', 'cmk'])).toMatch(/^error: CONFIRMATION_REQUIRED/);
    expect(fails(['destroy', 'dek', '--segment', 'tenant-b'])).toMatch(/--confirm tenant-b/);
    ok(['destroy', 'dek', '--segment', 'tenant-b', '--confirm', 'tenant-b']);
    expect(fails(['decrypt', '--context', 'Patient.ssn#p2'], b1)).toMatch(/^error: KEY_DESTROYED/);
  });

  it('backs up and restores wrapped keys; a modified backup is refused', () => {
    ok(['backup', 'export', 'keys.backup.json']);
    const backup = readFileSync(join(dir, 'keys.backup.json'), 'utf8');
    expect(backup).not.toContain('CANARY');
    expect(JSON.parse(ok(['backup', 'import', 'keys.backup.json', '--json']))).toMatchObject({ deks: 0, missingInHsm: [] });
  });

  it('verifies the audit trail, and fails after one audit row is edited in the database', () => {
    expect(JSON.parse(ok(['audit', 'verify', '--json']))).toMatchObject({ valid: true });
    const list = JSON.parse(ok(['audit', 'list', '--json']));
    expect(list.map((r: { event: string }) => r.event)).toEqual(expect.arrayContaining(['generate', 'rotate', 'rewrap', 'retire', 'disable', 'enable', 'destroy', 'backup', 'restore']));
    expect(JSON.stringify(list)).not.toContain('CANARY');
    const db = new Database(join(dir, '.keystrata', 'keys.db'));
    db.prepare(`UPDATE keystrata_audit SET subject = 'cmk:someone-else' WHERE seq = 3`).run();
    db.close();
    const stderr = fails(['audit', 'verify']);
    expect(stderr).toMatch(/^error: AUDIT_CHAIN_BROKEN: Audit record 3/);
  });

  it('prints usage, exits non-zero with the error code on bad input, and --json errors as JSON', () => {
    expect(keystrata(dir, ['nonsense']).status).toBe(2);
    const r = keystrata(dir, ['decrypt', '--json', '--context', 'bad'], 'x');
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: 'CONFIG_INVALID' } });
  });
});
