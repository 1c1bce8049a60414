import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

const READER = fileURLToPath(new URL('./revocation-reader.mjs', import.meta.url));
const started = new Set<ChildProcess>();

/** Kills every reader this module started that still runs (afterEach/afterAll). */
export function killReaders(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  started.clear();
}

/** A running reader process (test/processes/revocation-reader.mjs): `send` one command, get its JSON answer. */
export interface Reader {
  send(command: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  readonly pid: number;
}

/** Starts another application instance over the same key store, with its own cache settings. */
export async function startReader(config: { kind: 'sqlite' | 'postgres'; database: string; cmkLabelPrefix: string; cache: object }): Promise<Reader> {
  const env = { ...process.env, KEYSTRATA_REVOCATION_READER: JSON.stringify({ ...config, token: inject('softhsm') }) };
  const child = spawn(process.execPath, [READER], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  started.add(child);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (timeoutMs: number) => {
    const line = await Promise.race([lines.next(), sleep(timeoutMs).then(() => ({ done: true, value: undefined }))]);
    if (line.done) throw new Error('the reader process did not answer');
    return JSON.parse(line.value as string) as Record<string, unknown>;
  };
  const ready = await next(20_000);
  if (ready.ready !== true) throw new Error(`the reader did not start: ${JSON.stringify(ready)}`);
  return {
    pid: child.pid!,
    async send(command, timeoutMs = 15_000) {
      child.stdin!.write(`${command}\n`);
      return next(timeoutMs);
    },
  };
}
