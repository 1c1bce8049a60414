/**
 * W3 decomposition for the TypeORM adapter (issue 16): 1,000 equality lookups on the encrypted
 * e-mail, interleaved round by round, as
 * - plain: findOneBy({ email }) on a plain table with an ordinary index;
 * - stored: findOneBy({ emailIndex }) on the keystrata table through a DataSource without the
 *   adapter, the blind index precomputed (the ORM reading bigger values by the index column);
 * - core: hierarchy.blindIndex + decryptValues of the row's two envelopes (the core alone, no ORM);
 * - keystrata-by-index: findOneBy({ emailIndex }) through installKeystrata (the adapter's read path, no token);
 * - keystrata: findOneBy({ email }) through installKeystrata.
 * Prints µs per lookup (median of the rounds; the process's CPU time in parentheses) and the
 * key-store queries / HSM calls per run.
 * `pnpm --filter @keystrata/bench exec vitest run -c vitest.profile.config.ts src/profile/typeorm-lookup.profile.ts`;
 * KEYSTRATA_PROFILE_ONLY=<variant>: one variant; KEYSTRATA_PROFILE_CPU=<file>: a CPU profile of the
 * measured loops only; KEYSTRATA_PROFILE_PROMISES=1: promises created per lookup and variant;
 * KEYSTRATA_PROFILE_GC=1 with NODE_OPTIONS=--expose-gc: a major GC before every run, as the bench
 * harness does (every variant then measures 2–3× slower on this machine).
 */
import 'reflect-metadata';
import { it } from 'vitest';
import { openTypeormProfile } from './typeorm-setup.js';
import { KsPatient, PlainPatient, StoredPatient } from '../orm/typeorm-entities.js';
import { emailOf, expectRow, lookupSeqs } from '../data.js';
import { coreLookups, timeLookups } from './core-lookup.js';

it('profile: typeorm W3 lookups, decomposed', async () => {
  const { plain, ks, stored, hierarchy, close } = await openTypeormProfile('profile-typeorm-lookup');
  const plainRepo = plain.getRepository(PlainPatient);
  const ksRepo = ks.getRepository(KsPatient);
  const storedRepo = stored.getRepository(StoredPatient);
  const indexes = new Map<number, string>();
  for (const seq of lookupSeqs) indexes.set(seq, await hierarchy.blindIndex(emailOf(seq), { model: 'KsPatient', field: 'email' }));
  const storedRows = new Map<number, StoredPatient>();
  for (const seq of lookupSeqs) storedRows.set(seq, (await storedRepo.findOneBy({ emailIndex: indexes.get(seq)! }))!);
  if ([...storedRows.values()].some((r) => r === null)) throw new Error('the precomputed blind index finds no row: the model name differs');

  const variants: Record<string, () => Promise<void>> = {
    plain: async () => {
      for (const seq of lookupSeqs) expectRow(await plainRepo.findOneBy({ email: emailOf(seq) }), seq);
    },
    stored: async () => {
      for (const seq of lookupSeqs) if ((await storedRepo.findOneBy({ emailIndex: indexes.get(seq)! }))?.seq !== seq) throw new Error('stored lookup');
    },
    core: coreLookups(hierarchy, 'KsPatient', storedRows),
    // The adapter's read path alone: the blind index given (no token to resolve), the row decrypted on load.
    'keystrata-by-index': async () => {
      for (const seq of lookupSeqs) expectRow(await ksRepo.findOneBy({ emailIndex: indexes.get(seq)! }), seq);
    },
    keystrata: async () => {
      for (const seq of lookupSeqs) expectRow(await ksRepo.findOneBy({ email: emailOf(seq) }), seq);
    },
  };
  if (process.env.KEYSTRATA_PROFILE_PROMISES === '1') {
    // Promises created per lookup, per variant (deterministic, unlike time on a shared machine).
    const { createHook } = await import('node:async_hooks');
    let promises = 0;
    const hook = createHook({ init: (_id, type) => void (type === 'PROMISE' && promises++) });
    const seq = lookupSeqs[0]!;
    const once: Record<string, () => Promise<unknown>> = {
      plain: () => plainRepo.findOneBy({ email: emailOf(seq) }),
      stored: () => storedRepo.findOneBy({ emailIndex: indexes.get(seq)! }),
      blindIndex: () => hierarchy.blindIndex(emailOf(seq), { model: 'KsPatient', field: 'email' }),
      decryptValues: () => {
        const row = storedRows.get(seq)!;
        const segment = `tenantId:${row.tenantId}`;
        return hierarchy.decryptValues([
          { ciphertext: row.email, context: { model: 'KsPatient', field: 'email', recordId: row.id, segment } },
          { ciphertext: row.ssn, context: { model: 'KsPatient', field: 'ssn', recordId: row.id, segment } },
        ]);
      },
      keystrata: () => ksRepo.findOneBy({ email: emailOf(seq) }),
    };
    for (const [name, run] of Object.entries(once)) {
      await run();
      promises = 0;
      hook.enable();
      await run();
      hook.disable();
      console.log(`[profile] promises per lookup: ${name} ${promises}`);
    }
  }
  console.log(`[profile] typeorm W3 ${await timeLookups(hierarchy, variants)}`);
  await close();
});
