import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { keystrata } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'keystrata-cli-audit-'));
const ok = (args: string[]) => {
  const r = keystrata(dir, args);
  expect(r.status, `keystrata ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};

describe('keystrata audit verify --head (issue 11 §5)', () => {
  beforeAll(() => {
    ok(['hsm', 'init-dev']);
    ok(['init']);
  });

  it('issue 11 §5: audit verify --head <seq>:<mac> passes while the saved head is in the trail and fails once the tail after an earlier head is deleted', () => {
    const saved = JSON.parse(ok(['audit', 'verify', '--json']));
    expect(saved).toMatchObject({ valid: true, headSeq: expect.any(Number), headMac: expect.any(String) });
    const head = `${saved.headSeq}:${saved.headMac}`;
    expect(ok(['audit', 'verify'])).toContain(`head ${head}`);
    ok(['rotate', 'kek']);
    expect(keystrata(dir, ['encrypt', '--context', 'Patient.ssn#p1', '--segment', 'tenant-a'], 'CANARY').status).toBe(0);
    expect(JSON.parse(ok(['audit', 'verify', '--json', '--head', head]))).toMatchObject({ valid: true, savedHead: { seq: saved.headSeq, mac: saved.headMac } });
    // The attacker deletes every record from the saved head on, with plain SQL.
    const db = new Database(join(dir, '.keystrata', 'keys.db'));
    db.prepare('DELETE FROM keystrata_audit WHERE seq >= ?').run(saved.headSeq);
    db.close();
    const r = keystrata(dir, ['audit', 'verify', '--head', head]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^error: AUDIT_CHAIN_BROKEN/);
  });

  it('issue 11 §5: a malformed --head is CONFIG_INVALID', () => {
    for (const head of ['abc', '0:AAAA', '12', ':AAAA', '3:not base64!']) {
      const r = keystrata(dir, ['audit', 'verify', '--json', '--head', head]);
      expect(r.status, head).not.toBe(0);
      expect(JSON.parse(r.stderr), head).toMatchObject({ error: { code: 'CONFIG_INVALID' } });
    }
  });
});
