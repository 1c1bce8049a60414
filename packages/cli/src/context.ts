import type { KeyHierarchy } from '@keystrata/core';
import type { ResolvedConfig } from './config.js';
import type { Output } from './output.js';

/** What a command receives: parsed flags, positionals, the config and the output. */
export interface CommandContext {
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  readonly config: ResolvedConfig;
  readonly out: Output;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  /** Opens the hierarchy (once) from the config; closed by the runner. */
  hierarchy(): Promise<KeyHierarchy>;
}

/** A CLI command. */
export interface Command {
  readonly usage: string;
  readonly summary: string;
  run(context: CommandContext): Promise<void>;
}
