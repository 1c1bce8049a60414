import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url));

/** A child process of the worker tests (child.mjs): its answer once it exits. */
export interface Child {
  readonly process: ChildProcess;
  /** Resolves when it has opened the root key and the database. */
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; answer: unknown; stderr: string }>;
}

const started = new Set<ChildProcess>();

/** Starts child.mjs with `config` (JSON in KS_CHILD). */
export function startChild(config: Record<string, unknown>): Child {
  const child = spawn(process.execPath, [CHILD], { env: { ...process.env, KS_CHILD: JSON.stringify(config) }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let stdout = '';
  let stderr = '';
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.includes('ready\n')) markReady();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; answer: unknown; stderr: string }>((resolve) => {
    child.on('exit', (code, signal) => {
      started.delete(child);
      markReady();
      const line = stdout.trim().split('\n').filter(Boolean).at(-1);
      resolve({ code, signal, answer: line === undefined ? undefined : JSON.parse(line), stderr });
    });
  });
  return { process: child, ready, exited };
}

/** SIGKILLs every child still running (afterAll / finally). */
export function killAllChildren(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  started.clear();
}
