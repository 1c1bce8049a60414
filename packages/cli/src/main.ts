import { parseArgs } from 'node:util';
import type { KeyHierarchy } from '@keystrata/core';
import { loadConfig } from './config.js';
import type { Command, CommandContext } from './context.js';
import { processOutput, reportError } from './output.js';
import { asFlagError } from './parse-flags.js';
import { audit } from './commands/audit.js';
import { backup } from './commands/backup.js';
import { decrypt, encrypt } from './commands/encrypt.js';
import { hsmInitDev } from './commands/hsm-init-dev.js';
import { init } from './commands/init.js';
import { destroy, enable, revoke } from './commands/revoke.js';
import { retire, rewrap, rotate } from './commands/rotate.js';
import { status } from './commands/status.js';
import { shred } from './commands/shred.js';
import { policy } from './commands/policy.js';
import { hsmAddMember, hsmMembers, hsmRemoveMember } from './commands/hsm-members.js';
import { worker } from './commands/worker.js';

/**
 * The streams the CLI reads and writes (a progress bar is drawn when stderr is a TTY).
 *
 * @example
 * ```ts
 * import { PassThrough } from 'node:stream';
 * import { main, type CliIo } from '@keystrata/cli';
 * const stdout = new PassThrough();
 * const io: CliIo = { stdin: process.stdin, stdout, stderr: process.stderr };
 * const code = await main(['status', '--json'], io); // the JSON report is written to `stdout`
 * ```
 */
export interface CliIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
}

/**
 * Every command, by its first word (`hsm` takes a second).
 *
 * @example
 * ```ts
 * import { COMMANDS } from '@keystrata/cli';
 * console.log(Object.keys(COMMANDS).join(', ')); // 'hsm init-dev, init, status, …'
 * ```
 */
export const COMMANDS: Readonly<Record<string, Command>> = {
  'hsm init-dev': hsmInitDev,
  init,
  status,
  encrypt,
  decrypt,
  rotate,
  rewrap,
  retire,
  revoke,
  enable,
  destroy,
  audit,
  backup,
  shred,
  policy,
  'hsm members': hsmMembers,
  'hsm add-member': hsmAddMember,
  'hsm remove-member': hsmRemoveMember,
  worker,
};

const OPTIONS = {
  json: { type: 'boolean' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  context: { type: 'string' },
  segment: { type: 'string' },
  keyring: { type: 'string' },
  id: { type: 'string' },
  version: { type: 'string' },
  confirm: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'batch-size': { type: 'string' },
  after: { type: 'string' },
  limit: { type: 'string' },
  label: { type: 'string' },
  dir: { type: 'string' },
  database: { type: 'string' },
  durable: { type: 'string' },
  head: { type: 'string' },
  'kek-validity': { type: 'string' },
  'dek-validity': { type: 'string' },
  'dek-usage-limit': { type: 'string' },
  workers: { type: 'string' },
  'old-keys': { type: 'string' },
  concurrency: { type: 'string' },
} as const;

function usage(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  return ['Usage: keystrata <command> [--json] [--config keystrata.config.json]', '', ...Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`)].join('\n');
}

function parseCommandLine(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw asFlagError(error, argv, OPTIONS);
  }
}

/**
 * Runs the CLI; returns the exit code. Failures print `error <CODE>: …` on stderr.
 *
 * @example
 * ```ts
 * import { main } from '@keystrata/cli';
 * process.exitCode = await main(['status', '--json']);
 * ```
 */
export async function main(argv: readonly string[], io: CliIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let json = argv.includes('--json');
  let hierarchy: KeyHierarchy | undefined;
  try {
    const { values, positionals } = parseCommandLine(argv);
    json = values.json === true;
    const [first, ...rest] = positionals;
    const name = first === 'hsm' ? `hsm ${rest.shift() ?? ''}` : first;
    const command = name === undefined ? undefined : COMMANDS[name];
    if (command === undefined || values.help) {
      io.stdout.write(`${usage()}\n`);
      return command === undefined && !values.help ? 2 : 0;
    }
    const config = loadConfig(values.config);
    const context: CommandContext = {
      flags: values,
      positionals: rest,
      config,
      out: processOutput(json, io.stdout, io.stderr),
      stdin: io.stdin,
      stdout: io.stdout,
      async hierarchy() {
        const { openHierarchy } = await import('./open.js');
        // Re-read: a command (init, hsm init-dev) may have just written the config file.
        hierarchy ??= await openHierarchy(loadConfig(values.config));
        return hierarchy;
      },
    };
    await command.run(context);
    return 0;
  } catch (error) {
    return reportError(error, json, io.stderr);
  } finally {
    await hierarchy?.close().catch(() => undefined);
  }
}
