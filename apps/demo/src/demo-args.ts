/**
 * The demo's own arguments: drops one leading `--`, which `pnpm demo -- --json` (the npm habit)
 * passes through, so that `parseArgs` does not read every flag after it as a positional.
 *
 * @example
 * ```ts
 * demoArgs(['--', '--json']); // ['--json']
 * demoArgs(['--json']);       // ['--json']
 * ```
 */
export function demoArgs(argv: readonly string[] = process.argv.slice(2)): string[] {
  return argv[0] === '--' ? argv.slice(1) : [...argv];
}
