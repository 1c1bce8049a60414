// One re-encryption worker process of the bench (what `keystrata worker` runs): TypeORM on
// PostgreSQL with Keystrata installed, pg-boss jobs; SIGTERM stops it after the current batch.
// Configuration: JSON in KS_BENCH_WORKER. Prints its summary as one JSON line at the end.
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { Pkcs11RootKey, createPgBossRotationQueue, runRotationWorker } from '@keystrata/core';
import { installKeystrata, typeormReencryptionHook } from '@keystrata/typeorm';
import { Ledger } from './ledger-entity.mjs';

const config = JSON.parse(process.env.KS_BENCH_WORKER ?? '{}');
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());

async function openRootKey(token) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
    } catch (error) {
      if (attempt === 5) throw error;
      await sleep(100 * attempt);
    }
  }
}

const dataSource = await new DataSource({ type: 'postgres', url: config.url, entities: [Ledger], poolSize: 4 }).initialize();
const rootKey = await openRootKey(config.token);
const keystrata = await installKeystrata(dataSource, { rootKey, segment: { by: 'tenant', field: 'tenantId' }, provision: false, hierarchyOptions: { cmkLabelPrefix: config.prefix } });
const queue = await createPgBossRotationQueue({ connectionString: config.url, leaseSeconds: 60, maintenanceIntervalSeconds: 5 });
let summary;
try {
  summary = await runRotationWorker({ hierarchy: keystrata.hierarchy, queue, hook: typeormReencryptionHook(dataSource), signal: stop.signal, pollMs: 100 });
} finally {
  await queue.close();
  await keystrata.close();
  await dataSource.destroy();
}
process.stdout.write(`${JSON.stringify(summary)}\n`);
