import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { keystrata } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'keystrata-cli-policy-'));
const ok = (args: string[]) => {
  const r = keystrata(dir, args);
  expect(r.status, `keystrata ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};

describe('keystrata policy', () => {
  beforeAll(() => {
    ok(['hsm', 'init-dev']);
    ok(['init']);
  });

  it('issue 15 §3: policy set stores validated rules, policy show and status show them with the next rotation and usage', () => {
    ok(['policy', 'set', '--kek-validity', '90d', '--dek-usage-limit', '500000']);
    const shown = JSON.parse(ok(['policy', 'show', '--json']));
    expect(shown.policy).toMatchObject({ keyring: 'default', kekValiditySeconds: 7_776_000, dekValiditySeconds: null, dekUsageLimit: 500_000, usageLimitIsDefault: false });
    expect(Date.parse(shown.nextKekRotation)).toBeGreaterThan(Date.now() + 89 * 86_400_000);
    const status = ok(['status']);
    expect(status).toMatch(/ {2}policy: KEK validity 90d \(next rotation \d{4}-[^)]+\); DEK validity none; DEK usage limit 500000\n/);
    expect(status).toContain('  usage: 0 uses reserved over the primary DEKs');
    ok(['policy', 'set', '--kek-validity', 'none', '--dek-validity', '12h']);
    expect(JSON.parse(ok(['policy', 'show', '--json'])).policy).toMatchObject({ kekValiditySeconds: null, dekValiditySeconds: 43_200, dekUsageLimit: 500_000 });
    const audit = JSON.parse(ok(['audit', 'list', '--json'])) as Array<{ event: string; subject: string }>;
    expect(audit.filter((r) => r.event === 'policy').map((r) => r.subject)).toEqual(['keyring:default', 'keyring:default']);
  });

  it('issue 15 §3: wrong rules are refused with CONFIG_INVALID naming the flag, and nothing is stored', () => {
    const before = JSON.parse(ok(['policy', 'show', '--json'])).policy;
    for (const args of [['--kek-validity', '5x'], ['--dek-validity', '0'], ['--dek-usage-limit', String(2 ** 31)], ['--dek-usage-limit=-3'], []]) {
      const r = keystrata(dir, ['policy', 'set', ...args, '--json']);
      expect(r.status, args.join(' ')).toBe(2);
      const error = JSON.parse(r.stderr).error;
      expect(error.code).toBe('CONFIG_INVALID');
      if (args.length > 0) expect(error.message).toMatch(/--kek-validity|--dek-validity|dekUsageLimit|--dek-usage-limit/);
    }
    expect(keystrata(dir, ['policy', 'frobnicate']).status).toBe(2);
    expect(JSON.parse(ok(['policy', 'show', '--json'])).policy).toEqual(before);
  });

  it('issue 15 §3: policy enforce reports what it rotated; nothing is due on a fresh keyring', () => {
    const result = JSON.parse(ok(['policy', 'enforce', '--json']));
    expect(result).toEqual({ keyring: 'default', kekRotated: null, deksRotated: [], pendingReencryptions: [] });
    expect(ok(['policy', 'enforce'])).toContain('keyring default: no KEK rotation due; 0 DEK(s) rotated; 0 segment(s) awaiting re-encryption.');
  });
});
