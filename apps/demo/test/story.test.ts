import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SECRETS } from '../src/clinic/data.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const demo = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, SOFTHSM2_CONF: '' } });

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('the clinic story (pnpm demo)', () => {
  it('runs every step with --json, exits 0, and leaves no plaintext in the kept databases', () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-test-'));
    const run = demo(['--json', '--db-dir', dir]);
    expect(run.status, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.ok).toBe(true);
    expect(summary.steps.map((s: { id: number; ok: boolean }) => [s.id, s.ok])).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((id) => [id, true]));
    expect(summary.steps.find((s: { id: number }) => s.id === 4).skipped).toBeUndefined(); // FerretDB ran
    expect(summary.checks.failed).toBe(0);
    const kept = files(dir).filter((f) => /\.(db|sqlite)(-wal)?$/.test(f));
    expect(kept.length).toBeGreaterThanOrEqual(2); // clinic.db and FerretDB's SQLite file
    for (const file of kept) {
      const bytes = readFileSync(file).toString('latin1');
      for (const secret of SECRETS) expect(bytes.includes(secret), `${secret} in ${file}`).toBe(false);
    }
  });

  it('runs one step with --step and prints a readable section', () => {
    const run = demo(['--step', '7']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('7. Crypto-shred one patient');
    expect(run.stdout).not.toContain('2. Prisma on SQLite');
    expect(run.stdout).toMatch(/reading it fails with KEY_DESTROYED/);
  });

  it('refuses an unknown step', () => {
    expect(demo(['--step', '9']).status).toBe(2);
  });

  it('issue 11 §6: a leading -- (the npm habit, `pnpm demo -- --json`) is accepted', () => {
    const help = demo(['--', '--help']);
    expect(help.stderr).not.toContain('ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL');
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: pnpm demo');
    // The flags after `--` are read as flags: --json and --step reach the step check (exit 2), not a parse error (exit 1).
    const badStep = demo(['--', '--json', '--step', '9']);
    expect(badStep.stderr).not.toContain('ERR_PARSE_ARGS');
    expect(badStep.status).toBe(2);
    // The literal command a user types, through pnpm at the repository root.
    const viaPnpm = spawnSync('pnpm', ['demo', '--', '--help'], { cwd: fileURLToPath(new URL('../../..', import.meta.url)), encoding: 'utf8', env: { ...process.env, SOFTHSM2_CONF: '' } });
    expect(viaPnpm.status, viaPnpm.stderr + viaPnpm.stdout).toBe(0);
    expect(viaPnpm.stdout).toContain('Usage: pnpm demo');
  });
});
