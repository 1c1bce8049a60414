import { KeystrataError, type Progress } from '@keystrata/core';

/** Where a command writes; `json` switches every command to machine-readable output. */
export interface Output {
  readonly json: boolean;
  /** Human output (ignored with --json). */
  line(text: string): void;
  /** The result: printed as JSON with --json, else by `human`. */
  result(value: unknown, human?: (value: never) => string): void;
  progress(progress: Progress): void;
}

/** An Output on the process's streams; progress is a bar on a terminal, plain lines otherwise. */
export function processOutput(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream & { readonly isTTY?: boolean } = process.stderr): Output {
  let lastPlain = 0;
  return {
    json,
    line(text) {
      if (!json) stdout.write(`${text}\n`);
    },
    result(value, human) {
      if (json) stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      else if (human) stdout.write(`${human(value as never)}\n`);
    },
    progress({ phase, done, total }) {
      if (json) return;
      if (stderr.isTTY) {
        const width = 30;
        const filled = total ? Math.round((done / total) * width) : 0;
        const bar = total ? `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}` : `${done}`;
        stderr.write(`\r${phase} ${bar}${total && done >= total ? '\n' : ''}`);
      } else if (done - lastPlain >= 100 || done === total || done < lastPlain) {
        lastPlain = done;
        stderr.write(`${phase}: ${done}${total ? `/${total}` : ''}\n`);
      }
    },
  };
}

/** Prints an error with its code on stderr and returns the exit code. */
export function reportError(error: unknown, json: boolean, stderr: NodeJS.WritableStream = process.stderr): number {
  const code = KeystrataError.isInstance(error) ? error.code : 'INTERNAL';
  const errno = (error as { code?: unknown })?.code;
  const message = KeystrataError.isInstance(error)
    ? error.message
    : `${error instanceof Error ? error.name : typeof error}${typeof errno === 'string' ? ` ${errno}` : ''} (details withheld: they could quote sensitive input). Report this with the command you ran.`;
  stderr.write(json ? `${JSON.stringify({ error: { code, message } })}\n` : `error: ${KeystrataError.isInstance(error) ? message : `${code}: ${message}`}\n`);
  return KeystrataError.isInstance(error) && error.code === 'CONFIG_INVALID' ? 2 : 1;
}
