// A process of the issue 15 §2 tests and bench: `worker` (a re-encryption worker, as `keystrata
// worker` runs one) or `writer` (the application, updating rows of the segment under rotation).
// Configuration comes as JSON in KS_CHILD; the answer is one JSON line on stdout at the end.
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { Pkcs11RootKey, createPgBossRotationQueue, runRotationWorker } from '@keystrata/core';
import { installKeystrata, typeormReencryptionHook } from '../../dist/index.js';
import { Ledger } from './row-entity.mjs';

const config = JSON.parse(process.env.KS_CHILD ?? '{}');
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());

async function openRootKey(token) {
  // Several processes opening one SoftHSM2 token at once: start-up retries (see core's child-common.mjs).
  for (let attempt = 1; ; attempt++) {
    try {
      return await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
    } catch (error) {
      if (attempt === 5) throw error;
      await sleep(100 * attempt);
    }
  }
}

const dataSource = new DataSource({ type: 'postgres', url: config.url, entities: [Ledger], poolSize: 4 });
await dataSource.initialize();
const rootKey = await openRootKey(config.token);
const keystrata = await installKeystrata(dataSource, {
  rootKey,
  segment: { by: 'tenant', field: 'tenantId' },
  provision: false,
  hierarchyOptions: { cmkLabelPrefix: config.prefix, cache: config.cache ?? {} },
});
process.stderr.write('ready\n');
let answer;
try {
  if (config.mode === 'worker') {
    const queue = await createPgBossRotationQueue({ connectionString: config.url, leaseSeconds: config.leaseSeconds ?? 60, maintenanceIntervalSeconds: config.maintenanceIntervalSeconds ?? 10 });
    try {
      const hook = typeormReencryptionHook(dataSource);
      // Each job's outcome on stderr (no values or keys): the test shows it when it fails.
      const onJob = (event) => process.stderr.write(`${JSON.stringify({ kind: event.kind, outcome: event.outcome, code: event.code, rewritten: event.rewritten })}\n`);
      answer = await runRotationWorker({ hierarchy: keystrata.hierarchy, queue, hook, signal: stop.signal, pollMs: 100, untilIdle: config.untilIdle === true, onJob });
    } finally {
      await queue.close();
    }
  } else {
    // The application: updates random rows of the tenant one by one; remembers what it committed last.
    const repo = dataSource.getRepository(Ledger);
    const latest = {};
    let writes = 0;
    const errors = [];
    while (!stop.signal.aborted) {
      const id = Math.floor(Math.random() * config.rows);
      const value = `w-${process.pid}-${writes}`;
      try {
        await repo.update({ id }, { value });
        latest[id] = value;
        writes++;
      } catch (error) {
        errors.push(error?.code ?? String(error));
        if (errors.length > 20) break;
      }
      if (config.pauseMs) await sleep(config.pauseMs);
    }
    answer = { writes, latest, errors };
  }
} finally {
  await keystrata.close();
  await rootKey.close().catch(() => undefined);
  await dataSource.destroy();
}
process.stdout.write(`${JSON.stringify(answer)}\n`);
