import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Vitest global setup: builds the package and runs `prisma generate` for the SQLite and
 * PostgreSQL test schemas (see generate.mjs), so every run tests the current generator.
 */
export default function setup(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('./generate.mjs', import.meta.url))], { stdio: 'inherit' });
}
