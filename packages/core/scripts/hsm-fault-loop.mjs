#!/usr/bin/env node
// The long form of test/hsm-fault-loop.test.ts (issue 11 §3b): RUNS runs of SECONDS seconds each
// (default 6 × 60 s) of the fault loop in test/fixtures/hsm-fault-child.mjs, each in its own
// process on a fresh SoftHSM2 token. Prints one line per run and exits 1 if any run crashed or saw
// an untyped or non-retryable error. Build first (`pnpm --filter @keystrata/core build`).
//   node packages/core/scripts/hsm-fault-loop.mjs [RUNS] [SECONDS]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 6);
const seconds = Number(process.argv[3] ?? 60);
const child = fileURLToPath(new URL('../test/fixtures/hsm-fault-child.mjs', import.meta.url));
const module = process.env.KEYSTRATA_PKCS11_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
let failed = 0;
for (let run = 1; run <= runs; run++) {
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-fault-token-'));
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  // A throw-away token for this run only (test PINs, so a command line is acceptable here).
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'fault-loop', '--pin', '1234-fault', '--so-pin', '5678-fault'], { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'pipe' });
  const started = Date.now();
  const result = spawnSync(process.execPath, [child], {
    env: {
      ...process.env,
      SOFTHSM2_CONF: conf,
      FAULT_MODULE: module,
      FAULT_TOKEN: 'fault-loop',
      FAULT_PIN: '1234-fault',
      FAULT_DURATION_MS: String(seconds * 1000),
      FAULT_EVERY_MS: '1',
      FAULT_WORKERS: '8',
    },
    encoding: 'utf8',
    timeout: (seconds + 120) * 1000,
    killSignal: 'SIGKILL',
  });
  rmSync(dir, { recursive: true, force: true });
  const line = result.stdout?.trim().split('\n').at(-1) ?? '';
  const parsed = line.startsWith('{') ? JSON.parse(line) : undefined;
  const bad =
    result.status !== 0 ||
    parsed === undefined ||
    parsed.untypedCount > 0 ||
    parsed.after !== 'ok' ||
    parsed.wrongValues > 0 ||
    Object.keys(parsed.codes).some((code) => !code.startsWith('HSM_UNAVAILABLE'));
  if (bad) failed++;
  console.log(`run ${run}: ${bad ? 'FAIL' : 'ok'} exit=${result.status} signal=${result.signal} ${Math.round((Date.now() - started) / 1000)}s ${line || result.stderr?.slice(-500)}`);
}
console.log(`${runs - failed}/${runs} runs without crash or non-retryable error`);
process.exit(failed === 0 ? 0 : 1);
