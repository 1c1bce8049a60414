import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

/** Everything started here, so `killPolicyChildren` (afterAll/finally) leaves nothing running. */
const started = new Set<ChildProcess>();

/** Kills every policy child still running. */
export function killPolicyChildren(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  started.clear();
}

/** The JSON answer of test/processes/policy-child.mjs. */
export interface PolicyChildAnswer {
  readonly ok: boolean;
  readonly written?: number;
  readonly perDek?: Record<string, number>;
  readonly stats?: { reservations: number; reserved: number; used: number };
  readonly result?: { kekRotated: number | null; deksRotated: Array<{ segment: string; dekId: string; reason: string }> };
  readonly error?: { code: string; message: string };
}

/** Runs one policy child (its own process) with `config`; resolves with its answer, killed after `timeoutMs`. */
export function runPolicyChild(config: Record<string, unknown>, timeoutMs = 60_000): Promise<PolicyChildAnswer> {
  const env = { ...process.env, KS_CHILD: JSON.stringify({ token: inject('softhsm'), ...config }) };
  const child = spawn(process.execPath, [fileURLToPath(new URL('./policy-child.mjs', import.meta.url))], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      started.delete(child);
      const line = stdout.trim().split('\n').filter(Boolean).at(-1);
      if (line === undefined) reject(new Error(`policy child exited (${code ?? signal}) without an answer: ${stderr.slice(-500)}`));
      else resolve(JSON.parse(line) as PolicyChildAnswer);
    });
  });
}
