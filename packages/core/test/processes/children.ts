import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as pkcs11js from 'pkcs11js';
import { inject } from 'vitest';

const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

/** What every child process needs: the run's token, the SQLite file and the CMK label prefix. */
export interface ChildConfig {
  readonly db: string;
  readonly prefix: string;
  readonly [key: string]: unknown;
}

const childEnv = (config: ChildConfig): NodeJS.ProcessEnv => ({ ...process.env, KS_CHILD: JSON.stringify({ token: inject('softhsm'), ...config }) });

/** Everything started here, so `killAll` (afterAll/finally) leaves nothing running. */
const started = new Set<ChildProcess>();

/** Kills every child this module started that still runs. */
export function killAll(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  started.clear();
}

/** The outcome of one rotator process: its exit and its JSON answer (absent when it was killed). */
export interface RotatorOutcome {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly answer: { ok: boolean; result?: Record<string, unknown>; rewritten?: number; error?: { code: string; message: string } } | undefined;
  readonly stderr: string;
}

/** Runs test/processes/rotator.mjs with `config` (mode, killAt, goAt, segment, oldKeys). */
export function runRotator(config: ChildConfig, timeoutMs = 60_000): Promise<RotatorOutcome> {
  const child = spawn(process.execPath, [here('./rotator.mjs')], { env: childEnv(config), stdio: ['ignore', 'pipe', 'pipe'] });
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
  return new Promise((resolve) => {
    child.on('exit', (exitCode, signal) => {
      clearTimeout(timer);
      started.delete(child);
      const line = stdout.trim().split('\n').filter(Boolean).at(-1);
      resolve({ exitCode, signal, answer: line === undefined ? undefined : JSON.parse(line), stderr });
    });
  });
}

/** A running writer process (test/processes/dek-writer.mjs). */
export interface Writer {
  /** Asks it to stop; resolves with the last value it committed per row and its errors. */
  stop(): Promise<{ latest: Record<string, string>; writes: number; errors: unknown[]; errorCount: number }>;
}

/** Starts a writer over `ids` and waits until its cache is warm. */
export async function startWriter(config: ChildConfig & { name: string; ids: readonly string[]; cache?: object }): Promise<Writer> {
  const child = fork(here('./dek-writer.mjs'), [], { env: childEnv(config), stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  started.add(child);
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`writer ${config.name} exited early (${code})`)));
  });
  return {
    stop: () =>
      new Promise((resolve, reject) => {
        child.once('exit', (code) => {
          started.delete(child);
          const line = stdout.trim().split('\n').at(-1);
          if (code !== 0 || line === undefined) reject(new Error(`writer ${config.name} exited with ${code}`));
          else resolve(JSON.parse(line));
        });
        child.send('stop');
      }),
  };
}

/**
 * Secret-key objects on the run's token whose label starts with `prefix`, listed through a second,
 * raw PKCS#11 handle: what an operator auditing the token would see.
 */
export function tokenObjects(prefix: string): Array<{ label: string; id: string }> {
  const token = inject('softhsm');
  const pkcs11 = new pkcs11js.PKCS11();
  pkcs11.load(token.module);
  try {
    pkcs11.C_Initialize();
  } catch (e) {
    if (!String(e).includes('ALREADY_INITIALIZED')) throw e;
  }
  const slot = pkcs11.C_GetSlotList(true).find((s) => pkcs11.C_GetTokenInfo(s).label.trim() === token.tokenLabel)!;
  const session = pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
  try {
    try {
      pkcs11.C_Login(session, pkcs11js.CKU_USER, token.pin);
    } catch (e) {
      if (!String(e).includes('ALREADY_LOGGED_IN')) throw e;
    }
    pkcs11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY }]);
    const handles = pkcs11.C_FindObjects(session, 10_000);
    pkcs11.C_FindObjectsFinal(session);
    return handles
      .map((handle) => {
        const [label, id] = pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_LABEL }, { type: pkcs11js.CKA_ID }]);
        return { label: String(label!.value), id: Buffer.from(id!.value as Buffer).toString('hex') };
      })
      .filter((o) => o.label.startsWith(prefix));
  } finally {
    pkcs11.C_CloseSession(session);
  }
}
