import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createNssSoftoken } from '@keystrata/testing';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./members-fault-child.mjs', import.meta.url));

interface MemberRun {
  readonly counts: { reads: number; writes: number; rotations: number; failed: number; wrongValues: number };
  readonly codes: Record<string, number>;
  readonly timeline: Record<string, unknown>;
  readonly after: string;
  readonly memberRecords: Array<Record<string, unknown>>;
  readonly stats: Array<{ name: string; state: string; calls: number; failovers: number }>;
  readonly leaks: string[];
  readonly keks: number;
  readonly deks: number;
  readonly auditKeyScanned: boolean;
}

/** Runs one scenario in a child process (a native crash fails the test instead of killing vitest); killed after 25 s. */
async function runMembers(kind: 'cloned' | 'independent', scenario: 'failover' | 'all-down', count = 2, extra: readonly object[] = []): Promise<MemberRun> {
  const env = { ...process.env, MEMBERS_KIND: kind, MEMBERS_SCENARIO: scenario, MEMBERS_COUNT: String(count), MEMBERS_EXTRA: JSON.stringify(extra) };
  const process_ = spawn(process.execPath, [child], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  process_.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  process_.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => process_.kill('SIGKILL'), 25_000);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => process_.on('exit', (c, s) => resolve([c, s])));
    const line = stdout.trim().split('\n').at(-1) ?? '';
    expect({ code, signal, stderr: line.startsWith('{') ? '' : stderr.slice(-2000) }).toEqual({ code: 0, signal: null, stderr: '' });
    return JSON.parse(line) as MemberRun;
  } finally {
    clearTimeout(killer);
    if (process_.exitCode === null) process_.kill('SIGKILL');
  }
}

const transitions = (run: MemberRun) => run.memberRecords.filter((r) => r.to !== undefined).map((r) => `${r.member}:${r.from}->${r.to}`);

describe('issue 14: a root of two SoftHSM2 members survives losing either one for real', () => {
  it.each(['independent', 'cloned'] as const)(
    'issue 14 §failover: %s members, each taken away in turn under cold reads, new-segment writes and rotations (one in flight as it goes), give zero failed operations; each rejoins; the trail verifies; no KEK, DEK or audit key in plaintext on disk',
    async (kind) => {
      const run = await runMembers(kind, 'failover');
      expect({ failed: run.counts.failed, codes: run.codes, wrongValues: run.counts.wrongValues }).toEqual({ failed: 0, codes: {}, wrongValues: 0 });
      expect(run.counts.reads).toBeGreaterThan(10);
      expect(run.counts.writes).toBeGreaterThan(10);
      expect(run.counts.rotations).toBe(4);
      expect(run.timeline).toMatchObject({ bDownSeen: 'unhealthy', bRejoined: true, bSynced: true, aDownSeen: 'unhealthy', aRejoined: true, aSynced: true });
      expect(run.after).toBe('ok');
      expect(transitions(run)).toEqual(['b:healthy->unhealthy', 'b:unhealthy->healthy', 'a:healthy->unhealthy', 'a:unhealthy->healthy']);
      // Both members served operations (load balancing) and each failed over at least once.
      for (const member of run.stats) expect(member).toMatchObject({ state: 'healthy', calls: expect.any(Number), failovers: expect.any(Number) });
      expect(run.stats.every((m) => m.calls > 20 && m.failovers > 0)).toBe(true);
      expect(run.keks).toBeGreaterThan(0);
      expect(run.deks).toBeGreaterThan(10);
      // Independent members keep the audit key's wrapped copies: it was unwrapped and searched for too.
      expect(run.auditKeyScanned).toBe(kind === 'independent');
      expect(run.leaks).toEqual([]);
    },
    30_000,
  );

  it('issue 14 §failover: three independent members, each taken away in turn under load, give zero failed operations; each rejoins and is synced', async () => {
    const run = await runMembers('independent', 'failover', 3);
    expect({ failed: run.counts.failed, codes: run.codes, wrongValues: run.counts.wrongValues }).toEqual({ failed: 0, codes: {}, wrongValues: 0 });
    expect(run.counts.rotations).toBe(6);
    for (const name of ['a', 'b', 'c']) expect(run.timeline).toMatchObject({ [`${name}DownSeen`]: 'unhealthy', [`${name}Rejoined`]: true, [`${name}Synced`]: true });
    expect(transitions(run)).toEqual(['c:healthy->unhealthy', 'c:unhealthy->healthy', 'b:healthy->unhealthy', 'b:unhealthy->healthy', 'a:healthy->unhealthy', 'a:unhealthy->healthy']);
    expect(run.after).toBe('ok');
    expect(run.stats.every((m) => m.calls > 20)).toBe(true);
    expect(run.leaks).toEqual([]);
  }, 30_000);

  it('issue 14 §failover: two SoftHSM2 members and an NSS softoken (a second PKCS#11 implementation) as independent members, each taken away in turn under load: zero failed operations; each rejoins and is synced', async () => {
    const nss = createNssSoftoken({ label: 'member-c' });
    // The NSS member is taken away like the others: its database directory disappears and its module is finalised under the library.
    const member = { name: 'c', module: nss.module, tokenLabel: nss.tokenLabel, pin: nss.pin, libraryParameters: nss.libraryParameters, tokens: nss.directory };
    try {
      const run = await runMembers('independent', 'failover', 2, [member]);
      expect({ failed: run.counts.failed, codes: run.codes, wrongValues: run.counts.wrongValues }).toEqual({ failed: 0, codes: {}, wrongValues: 0 });
      expect(run.counts.rotations).toBe(6);
      for (const name of ['a', 'b', 'c']) expect(run.timeline).toMatchObject({ [`${name}DownSeen`]: 'unhealthy', [`${name}Rejoined`]: true, [`${name}Synced`]: true });
      expect(transitions(run)).toEqual(['c:healthy->unhealthy', 'c:unhealthy->healthy', 'b:healthy->unhealthy', 'b:unhealthy->healthy', 'a:healthy->unhealthy', 'a:unhealthy->healthy']);
      expect(run.after).toBe('ok');
      expect(run.stats.find((m) => m.name === 'c')?.calls).toBeGreaterThan(20);
      expect(run.leaks).toEqual([]);
    } finally {
      rmSync(nss.directory, { recursive: true, force: true });
      rmSync(`${nss.directory}-away`, { recursive: true, force: true });
    }
  }, 30_000);

  it('issue 14 §all-down: with every member gone operations fail closed with HSM_UNAVAILABLE, and recover by themselves when one member returns', async () => {
    const run = await runMembers('independent', 'all-down');
    expect(run.timeline).toEqual({ downCodes: { HSM_UNAVAILABLE: 2 }, recovered: true, bothHealthy: true });
    expect(run.after).toBe('ok');
    // The state changes made while nothing could MAC them are recorded once a member is back.
    const recorded = transitions(run);
    expect([...recorded.slice(0, 2)].sort()).toEqual(['a:healthy->unhealthy', 'b:healthy->unhealthy']);
    expect(recorded.slice(2)).toEqual(['a:unhealthy->healthy', 'b:unhealthy->healthy']);
    expect(run.leaks).toEqual([]);
  }, 30_000);
});
