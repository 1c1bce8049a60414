import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Vitest global setup: `prisma generate` for the SQLite and PostgreSQL schemas (see generate.mjs),
 * so every run uses the current build of the keystrata-prisma generator.
 */
export default function setup(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('./generate.mjs', import.meta.url))], { stdio: 'inherit' });
}
