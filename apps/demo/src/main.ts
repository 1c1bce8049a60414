#!/usr/bin/env node
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openClinic } from './clinic/clinic.js';
import { demoArgs } from './demo-args.js';
import { StoryRunner } from './story/report.js';
import type { StoryState } from './story/state.js';
import { STEPS } from './story/story.js';

const USAGE = `Usage: pnpm demo [--json] [--db-dir <dir>] [--step <1-${STEPS.length}>]
  --json      print a machine-readable summary instead of the story
  --db-dir    keep the SQLite database, key store, HSM token and FerretDB data in <dir> for inspection
  --step      run the steps before <n> quietly, then show step <n> only`;

function progressPrinter(enabled: boolean) {
  let last = -1;
  return (label: string, done: number, total: number) => {
    if (!enabled) return;
    if (process.stderr.isTTY) {
      const filled = Math.round((done / Math.max(total, 1)) * 30);
      process.stderr.write(`\r  ${label} [${'#'.repeat(filled)}${' '.repeat(30 - filled)}] ${done}/${total}${done >= total ? '\n' : ''}`);
    } else if (done !== last) {
      last = done;
      process.stderr.write(`  ${label}: ${done}/${total}\n`);
    }
  };
}

async function run(): Promise<number> {
  const { values } = parseArgs({ args: demoArgs(), options: { json: { type: 'boolean' }, 'db-dir': { type: 'string' }, step: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return (console.log(USAGE), 0);
  const only = values.step === undefined ? undefined : Number(values.step);
  if (only !== undefined && !(Number.isInteger(only) && only >= 1 && only <= STEPS.length)) return (console.error(USAGE), 2);
  const json = values.json === true;
  const dir = values['db-dir'] ? resolve(values['db-dir']) : mkdtempSync(resolve(tmpdir(), 'keystrata-demo-'));
  mkdirSync(dir, { recursive: true });
  const print = json ? undefined : (text: string) => console.log(text);
  if (print) print(`\u001b[1mKeystrata demo: a small clinic, two tenants\u001b[0m (working directory ${dir})`);
  const clinic = await openClinic(dir);
  const state: StoryState = { clinic, ids: new Map(), progress: progressPrinter(!json) };
  const quiet = new StoryRunner(undefined);
  const runner = new StoryRunner(print);
  try {
    for (const [index, step] of STEPS.entries()) {
      const id = index + 1;
      if (only !== undefined && id > only) break;
      await (only !== undefined && id < only ? quiet : runner).step(id, step.title, (out) => step.run(state, out));
    }
  } finally {
    await state.mongo?.close().catch(() => undefined);
    await clinic.close();
    if (!values['db-dir']) rmSync(dir, { recursive: true, force: true });
  }
  const checks = runner.reports.flatMap((r) => r.checks);
  const summary = {
    ok: runner.ok && quiet.ok,
    checks: { passed: checks.filter((c) => c.ok).length, failed: checks.filter((c) => !c.ok).length },
    steps: runner.reports.map(({ id, title, ok, skipped, checks: stepChecks }) => ({ id, title, ok, ...(skipped ? { skipped } : {}), checks: stepChecks })),
    ...(values['db-dir'] ? { dbDir: dir } : {}),
  };
  if (json) console.log(JSON.stringify(summary, null, 2));
  else {
    console.log(`\n\u001b[1mSummary\u001b[0m`);
    for (const r of runner.reports) console.log(`  ${r.ok ? (r.skipped ? '–' : '✓') : '✗'} ${r.id}. ${r.title}${r.skipped ? ' (skipped)' : ''}`);
    console.log(`  ${summary.checks.passed} checks held, ${summary.checks.failed} failed${values['db-dir'] ? `; databases kept in ${dir}` : ''}`);
  }
  return summary.ok ? 0 : 1;
}

process.exitCode = await run().catch((error: unknown) => {
  const code = (error as { code?: unknown })?.code;
  console.error(`demo failed: ${typeof code === 'string' ? code : ''} ${error instanceof Error ? error.message : String(error)}`);
  return 1;
});
