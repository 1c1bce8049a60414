import { KeystrataError } from '@keystrata/core';

const HINT = 'Run `keystrata --help` for the commands and their flags.';

/** The option name of a command-line token (`--limit=5` → `--limit`): the value never reaches a message. */
const optionName = (token: string): string => token.split('=', 1)[0]!;

/**
 * A `parseArgs` failure as `CONFIG_INVALID` naming the flag (an unknown flag, a value given to a
 * switch, a missing value); any other error unchanged. Node's own messages quote the argument
 * (which may be a secret typed in the wrong place), so they are replaced, not wrapped.
 *
 * @example
 * ```ts
 * try { parseArgs({ args, options }); } catch (error) { throw asFlagError(error, args, options); }
 * // CONFIG_INVALID: Unknown flag --bogus. Run `keystrata --help` …
 * ```
 */
export function asFlagError(error: unknown, argv: readonly string[], options: Readonly<Record<string, { readonly type: string; readonly short?: string }>>): unknown {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) return error;
  const known = new Set(Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]));
  const unknown = argv
    .filter((token) => token.startsWith('-') && token !== '-' && token !== '--')
    .map(optionName)
    .find((name) => !known.has(name));
  const message =
    code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
      ? `Unknown flag ${unknown !== undefined && /^(--[a-z][a-z0-9-]{0,30}|-[A-Za-z])$/.test(unknown) ? unknown : '(not shown)'}.`
      : code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
        ? 'A flag has a wrong value: a switch (--json, --dry-run, --help) takes none, the other flags need one (--flag value or --flag=value).'
        : 'The command line could not be read.';
  return new KeystrataError('CONFIG_INVALID', message, { hint: HINT });
}
