import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { keystrata } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'keystrata-cli-shred-'));
const ok = (args: string[], input = '') => {
  const r = keystrata(dir, args, input);
  expect(r.status, `keystrata ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};

describe('keystrata destroy, shred, status, enable and backup (SoftHSM2 + SQLite)', () => {
  beforeAll(() => {
    ok(['hsm', 'init-dev']);
    ok(['init']);
  });

  it('issue 11 §1: destroy --durable deferred waits in status; shred complete makes it durable; status says since when', () => {
    const gone = ok(['encrypt', '--context', 'Patient.ssn#p1', '--segment', 'tenant-gone'], 'CANARY-gone');
    const kept = ok(['encrypt', '--context', 'Patient.ssn#p2', '--segment', 'tenant-kept'], 'CANARY-kept');
    expect(ok(['destroy', 'dek', '--segment', 'tenant-gone', '--confirm', 'tenant-gone', '--durable', 'deferred'])).toMatch(/Not durable yet: run `keystrata shred complete`/);
    const pending = JSON.parse(ok(['status', '--json'])).keyrings[0].shreds;
    expect(pending).toMatchObject({ pending: 1, durable: 0, pendingSince: expect.any(String) });
    expect(ok(['status'])).toMatch(/1 awaiting a shred epoch since .*\n.*segment "tenant-gone"\).*pending/);
    expect(ok(['shred', 'complete'])).toMatch(/keyring default: shred epoch done; now CMK v2, KEK v2; .*CMK v1 destroyed in the HSM/);
    const after = JSON.parse(ok(['status', '--json'])).keyrings[0];
    expect(after.shreds).toMatchObject({ pending: 0, pendingSince: null, lastDurableAt: expect.any(String) });
    expect(after.cmks).toEqual([expect.objectContaining({ version: 1, state: 'retired' }), expect.objectContaining({ version: 2, state: 'primary' })]);
    expect(ok(['status'])).toMatch(/segment "tenant-gone"\).*durable since/);
    expect(keystrata(dir, ['decrypt', '--context', 'Patient.ssn#p1'], gone).stderr).toMatch(/^error: KEY_DESTROYED/);
    expect(ok(['decrypt', '--context', 'Patient.ssn#p2'], kept)).toBe('CANARY-kept');
    expect(ok(['shred', 'complete'])).toMatch(/No destroyed key awaits a shred epoch/);
    const bad = keystrata(dir, ['destroy', 'dek', '--segment', 'tenant-kept', '--confirm', 'tenant-kept', '--durable', 'later']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--durable is now or deferred/);
  });

  it('issue 11 §1: destroy is durable by default and says so', () => {
    ok(['encrypt', '--context', 'Patient.ssn#p3', '--segment', 'tenant-three'], 'CANARY-three');
    expect(ok(['destroy', 'dek', '--segment', 'tenant-three', '--confirm', 'tenant-three'])).toMatch(/Durably gone since /);
    expect(JSON.parse(ok(['status', '--json'])).keyrings[0].shreds).toMatchObject({ pending: 0 });
  });

  it('issue 11 §5: enable on a destroyed key exits non-zero with KEY_DESTROYED instead of printing success', () => {
    const r = keystrata(dir, ['enable', 'dek', '--segment', 'tenant-gone']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: .*destroyed; that cannot be undone/);
    const json = keystrata(dir, ['enable', 'dek', '--segment', 'tenant-gone', '--json']);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'KEY_DESTROYED' } });
  });

  it('issue 11 §4: backup export writes its file 0600, also over an existing world-readable file', () => {
    const file = join(dir, 'old.backup.json');
    writeFileSync(file, 'old contents', { mode: 0o644 });
    expect(statSync(file).mode & 0o777).toBe(0o644);
    ok(['backup', 'export', 'old.backup.json']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ format: 'keystrata-backup/1' });
    ok(['backup', 'export', 'fresh.backup.json']);
    expect(statSync(join(dir, 'fresh.backup.json')).mode & 0o777).toBe(0o600);
    const restored = JSON.parse(ok(['backup', 'import', 'old.backup.json', '--json']));
    expect(restored).toMatchObject({ deks: 0, missingInHsm: [] });
  });
});
