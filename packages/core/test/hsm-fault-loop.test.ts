import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';

const child = fileURLToPath(new URL('./fixtures/hsm-fault-child.mjs', import.meta.url));

interface FaultRun {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly result?: {
    operations: number;
    faults: number;
    finalizes: number;
    codes: Record<string, number>;
    untypedCount: number;
    untyped: string[];
    wrongValues: number;
    after: string;
    reconnects: number;
  };
}

/** Runs the fault loop in a child process, so a native crash fails the test instead of killing vitest. */
async function runFaultLoop(environment: Record<string, string>): Promise<FaultRun> {
  const token = inject('softhsm');
  const process_ = spawn(process.execPath, [child], {
    env: {
      ...process.env,
      ...environment,
      SOFTHSM2_CONF: token.conf,
      FAULT_MODULE: token.module,
      FAULT_TOKEN: token.tokenLabel,
      FAULT_PIN: token.pin,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  process_.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  process_.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => process_.kill('SIGKILL'), 25_000);
  try {
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => process_.on('exit', (code, sig) => resolve([code, sig])));
    const line = stdout.trim().split('\n').at(-1);
    return { exitCode, signal, stderr: stderr.slice(-2000), ...(line?.startsWith('{') ? { result: JSON.parse(line) } : {}) };
  } finally {
    clearTimeout(killer);
    if (process_.exitCode === null) process_.kill('SIGKILL');
  }
}

describe('the process survives losing its HSM sessions and module under load (issue 11 §3b)', () => {
  it('issue 11 §3b: 8 workers of cold decrypts over 4 KEK versions and rotateKek, while a second handle closes all sessions and finalises/initialises the module: no crash, only typed retryable errors, works afterwards', async () => {
    const run = await runFaultLoop({ FAULT_DURATION_MS: '8000', FAULT_MAX: '3000', FAULT_EVERY_MS: '1', FAULT_FINALIZE_EVERY: '4', FAULT_WORKERS: '8' });
    expect({ exitCode: run.exitCode, signal: run.signal, stderr: run.result === undefined ? run.stderr : '' }).toEqual({ exitCode: 0, signal: null, stderr: '' });
    const result = run.result!;
    expect(result.faults).toBeGreaterThan(20);
    expect(result.finalizes).toBeGreaterThan(5);
    expect(result.operations).toBeGreaterThan(50);
    expect(result.reconnects).toBeGreaterThan(0);
    expect({ untyped: result.untypedCount, samples: result.untyped }).toEqual({ untyped: 0, samples: [] });
    const notRetryable = Object.keys(result.codes).filter((code) => !code.startsWith('HSM_UNAVAILABLE'));
    expect(notRetryable).toEqual([]);
    expect(result.wrongValues).toBe(0);
    expect(result.after).toBe('ok');
  }, 30_000);
});
