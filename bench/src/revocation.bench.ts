/**
 * Issue 15 §1: how long a revocation takes to reach another process. Two processes over one key
 * store (SQLite file: the change-log check every `cache.revocationCheckMs`; PostgreSQL: LISTEN/NOTIFY),
 * both with warm caches and `maxAgeMs` of an hour. Per trial: the other process decrypts in a loop;
 * this one disables the DEK; the latency is from just before the disable call to the other's first
 * refusal (so it includes the disable call itself: an upper bound of commit-to-refusal). Also the
 * steady state: key-store queries made by N warm decrypts (the target: no extra query per decrypt).
 * Writes results/revocation.json; report-revocation.ts renders it into latest.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { inject, it } from 'vitest';
import { createPostgresDriver, createSqliteDriver, KeyHierarchy, Pkcs11RootKey, SqlKeyStore } from '@keystrata/core';
import { envelopeDekId } from '@keystrata/core/adapter';
import { createDatabase, startPostgres } from '@keystrata/testing';
import { QUICK } from './config.js';
import { RESULTS_DIR } from './paths.js';
import { REVOCATION_RESULTS, type RevocationRun } from './report-revocation.js';

const READER = fileURLToPath(new URL('./revocation-reader.mjs', import.meta.url));
const TRIALS = Number(process.env.KEYSTRATA_BENCH_REVOCATION_TRIALS ?? (QUICK ? 5 : 30));
const BURST = QUICK ? 2_000 : 20_000;
const HOUR = 3_600_000;

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

async function startReader(config: object): Promise<{ send(command: string): Promise<Record<string, unknown>>; next(): Promise<Record<string, unknown>>; child: ChildProcess }> {
  const env = { ...process.env, KEYSTRATA_BENCH_READER: JSON.stringify({ ...config, token: inject('softhsm') }) };
  const child = spawn(process.execPath, [READER], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await Promise.race([lines.next(), sleep(30_000).then(() => ({ done: true, value: undefined }))]);
    if (line.done) throw new Error('the bench reader did not answer');
    return JSON.parse(line.value as string) as Record<string, unknown>;
  };
  await next();
  return {
    child,
    next,
    async send(command) {
      child.stdin!.write(`${command}\n`);
      return next();
    },
  };
}

async function measure(label: string, kind: 'sqlite' | 'postgres', database: string, readerCache: object): Promise<RevocationRun> {
  const token = inject('softhsm');
  const rootKey = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
  const driver = kind === 'postgres' ? await createPostgresDriver({ database }) : await createSqliteDriver({ database });
  const keyStore = new SqlKeyStore(driver);
  const cmkLabelPrefix = `bench-revoke-${Math.random().toString(36).slice(2)}`;
  const h = await KeyHierarchy.create({ rootKey, keyStore, cmkLabelPrefix });
  await h.provision();
  const reader = await startReader({ kind, database, cmkLabelPrefix, cache: readerCache });
  const latencies: number[] = [];
  const failures: string[] = [];
  let steady: RevocationRun['steady'];
  try {
    const keep = await h.encryptValue('steady', { model: 'Patient', field: 'ssn', recordId: 'r1', segment: 'steady' });
    await reader.send(`warm steady ${keep}`);
    await sleep(300); // PostgreSQL: let the notification connection come up
    const burst = await reader.send(`burst steady ${keep} ${BURST}`);
    steady = { decrypts: BURST, queries: Number(burst.queries), checks: Number(burst.checks), ms: Number(burst.ms), mode: String(burst.mode) };
    for (let trial = 0; trial < TRIALS; trial++) {
      const segment = `trial-${trial}`;
      const envelope = await h.encryptValue(`canary-${trial}`, { model: 'Patient', field: 'ssn', recordId: 'r1', segment });
      await reader.send(`warm ${segment} ${envelope}`);
      await reader.send(`spin ${segment} ${envelope} 10000`); // answers { spinning } first
      await sleep(20 + Math.floor(Math.random() * 1000)); // a random phase against the 1 s check interval (as in production)
      const startedAt = Date.now();
      await h.disable({ kind: 'dek', id: envelopeDekId(envelope) });
      const done = await reader.next();
      if (done.code === 'KEY_DISABLED') latencies.push(Number(done.refusedAt) - startedAt);
      else failures.push(String(done.code));
    }
  } finally {
    reader.child.kill('SIGKILL');
    await h.close();
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  return { label, kind, readerCache, trials: TRIALS, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) ?? Number.NaN, failures, steady: steady! };
}

it('revocation propagation between two processes (issue 15 §1)', async () => {
  const runs: RevocationRun[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-bench-revoke-'));
  runs.push(await measure('SQLite, default revocationCheckMs (1000 ms)', 'sqlite', join(dir, 'keys.db'), { maxAgeMs: HOUR }));
  runs.push(await measure('SQLite, revocationCheckMs 250 ms', 'sqlite', join(dir, 'keys-250.db'), { maxAgeMs: HOUR, revocationCheckMs: 250 }));
  const server = await startPostgres();
  try {
    runs.push(await measure('PostgreSQL, defaults (LISTEN/NOTIFY)', 'postgres', await createDatabase(server.url, 'bench_revoke'), { maxAgeMs: HOUR }));
    runs.push(await measure('PostgreSQL, notifications only (revocationCheckMs 1 h)', 'postgres', await createDatabase(server.url, 'bench_revoke'), { maxAgeMs: HOUR, revocationCheckMs: HOUR }));
  } finally {
    await server.stop();
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, REVOCATION_RESULTS), `${JSON.stringify({ generatedAt: new Date().toISOString(), quick: QUICK, runs }, null, 2)}\n`);
  for (const run of runs)
    console.log(`[bench] ${run.label}: p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms over ${run.trials} trials; ${run.steady.queries} key-store queries in ${run.steady.decrypts} warm decrypts`);
}, 600_000);
