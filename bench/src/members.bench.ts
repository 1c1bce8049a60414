/**
 * Issue 14: cold reads on one HSM root vs a root of two members, in one process, interleaved.
 * Each variant has its own SoftHSM2 token(s) (own token directory and library copy per member) and
 * its own SQLite key store holding KEK_VERSIONS KEK versions with values under each; a round
 * clears the key cache and decrypts every value: one KEK unwrap per KEK version (the cold reads),
 * spread over the members. Reports µs per cold read and HSM calls per member (results/parts-members/).
 */
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { it } from 'vitest';
import { createSqliteDriver, KeyHierarchy, MemberRootKey, openPkcs11Members, Pkcs11RootKey, type RootKey, SqlKeyStore } from '@keystrata/core';
import { createSoftHsmToken } from '@keystrata/testing';
import { QUICK } from './config.js';
import { MEMBERS_PART, type MembersPart, type MembersVariant } from './report-members.js';

const KEK_VERSIONS = QUICK ? 4 : 16;
const VALUES_PER_KEK = 8;
const ROUNDS = QUICK ? { warmup: 0, rounds: 2 } : { warmup: 2, rounds: 15 };

/** A SoftHSM2 token in its own directory with its own copy of the library (one module instance per member). */
function memberToken(root: string, name: string) {
  const token = createSoftHsmToken({ label: `bench-member-${name}`, directory: join(root, name) });
  const module = join(token.directory, 'libsofthsm2.so');
  copyFileSync(token.module, module);
  return { name, module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment };
}

interface Setup {
  readonly name: string;
  readonly description: string;
  readonly rootKey: RootKey;
  readonly hierarchy: KeyHierarchy;
  readonly values: Array<{ ciphertext: string; context: { model: string; field: string; recordId: string; segment: string } }>;
}

async function setUp(root: string, name: string, description: string, rootKey: RootKey): Promise<Setup> {
  const keyStore = new SqlKeyStore(await createSqliteDriver({ database: join(root, `${name}.db`) }));
  const hierarchy = await KeyHierarchy.create({ rootKey, keyStore, cmkLabelPrefix: `bench-${name}` });
  await hierarchy.provision();
  const values: Setup['values'] = [];
  for (let version = 1; version <= KEK_VERSIONS; version++) {
    if (version > 1) await hierarchy.rotateKek();
    for (let i = 0; i < VALUES_PER_KEK; i++) {
      const context = { model: 'Patient', field: 'ssn', recordId: `r${version}-${i}`, segment: `k${version}-s${i}` };
      values.push({ ciphertext: await hierarchy.encryptValue(`123-45-${String(version * 100 + i).padStart(4, '0')}`, context), context });
    }
  }
  return { name, description, rootKey, hierarchy, values };
}

const memberCalls = (rootKey: RootKey): number[] => rootKey.stats.members?.map((m) => m.calls) ?? [rootKey.stats.hsmCalls];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

it('issue 14: cold reads, one HSM vs two members', async () => {
  const root = mkdtempSync(join(tmpdir(), 'keystrata-bench-members-'));
  const setups: Setup[] = [];
  try {
    const single = memberToken(root, 'single');
    setups.push(await setUp(root, 'one', 'one token (Pkcs11RootKey, today)', await Pkcs11RootKey.open(single)));
    const lone = memberToken(root, 'lone');
    setups.push(
      await setUp(root, 'one-member', 'a root of one member (MemberRootKey)', MemberRootKey.create({ kind: 'independent', members: [{ name: 'a', rootKey: await Pkcs11RootKey.open(lone) }] })),
    );
    const clonedA = memberToken(root, 'cloned-a');
    const clonedB = memberToken(root, 'cloned-b');
    // The clone: B's token directory replaced by a copy of A's after A is provisioned.
    const first = await setUp(root, 'two-cloned', 'two cloned members (copied token directory)', await openPkcs11Members({ kind: 'cloned', members: [clonedA] }));
    await first.rootKey.close();
    rmSync(join(root, 'cloned-b', 'tokens'), { recursive: true, force: true });
    cpSync(join(root, 'cloned-a', 'tokens'), join(root, 'cloned-b', 'tokens'), { recursive: true });
    const cloned = await openPkcs11Members({ kind: 'cloned', members: [clonedA, { ...clonedB, tokenLabel: clonedA.tokenLabel }] });
    const clonedHierarchy = await KeyHierarchy.create({
      rootKey: cloned,
      keyStore: new SqlKeyStore(await createSqliteDriver({ database: join(root, 'two-cloned.db') })),
      cmkLabelPrefix: 'bench-two-cloned',
    });
    setups.push({ ...first, rootKey: cloned, hierarchy: clonedHierarchy });
    const independent = await openPkcs11Members({ kind: 'independent', members: [memberToken(root, 'ind-a'), memberToken(root, 'ind-b')] });
    setups.push(await setUp(root, 'two-independent', 'two independent members (a KEK copy per member)', independent));

    const samples = new Map<string, { micros: number[]; calls: number[][] }>(setups.map((s) => [s.name, { micros: [], calls: [] }]));
    for (let round = 0; round < ROUNDS.warmup + ROUNDS.rounds; round++) {
      // Interleaved, order rotated each round.
      for (let k = 0; k < setups.length; k++) {
        const s = setups[(round + k) % setups.length]!;
        s.hierarchy.clearCache();
        const before = memberCalls(s.rootKey);
        const started = performance.now();
        await s.hierarchy.decryptValues(s.values);
        const elapsed = performance.now() - started;
        if (round < ROUNDS.warmup) continue;
        const after = memberCalls(s.rootKey);
        samples.get(s.name)!.micros.push((elapsed * 1000) / KEK_VERSIONS);
        samples.get(s.name)!.calls.push(after.map((n, i) => n - (before[i] ?? 0)));
      }
    }
    const variants: MembersVariant[] = setups.map((s) => {
      const { micros, calls } = samples.get(s.name)!;
      const perMember = calls[0]!.map((_, i) => median(calls.map((c) => c[i]!)));
      return { name: s.name, description: s.description, microsPerColdRead: median(micros), minMicros: Math.min(...micros), maxMicros: Math.max(...micros), hsmCallsPerMember: perMember };
    });
    const part: MembersPart = { generatedAt: new Date().toISOString(), quick: QUICK, kekVersions: KEK_VERSIONS, valuesPerKek: VALUES_PER_KEK, rounds: ROUNDS, variants };
    mkdirSync(join(MEMBERS_PART, '..'), { recursive: true });
    writeFileSync(MEMBERS_PART, `${JSON.stringify(part, null, 2)}\n`);
    console.log(variants.map((v) => `${v.name}: ${v.microsPerColdRead.toFixed(1)} µs/cold read, HSM calls per member ${v.hsmCallsPerMember.join('/')}`).join('\n'));
  } finally {
    for (const s of setups) await s.hierarchy.close().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}, 600_000);
