import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The C loop's best-of-7 ns per value, or why it was not measured. */
export type CFloor = { readonly sealNs: number; readonly openNs: number; readonly openssl: string } | { readonly gap: string };

/** Builds floor.c with the system gcc and libcrypto and runs it (about a second). */
export function measureCFloor(): CFloor {
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-aead-floor-'));
  try {
    const binary = join(dir, 'floor');
    execFileSync('gcc', ['-O2', fileURLToPath(new URL('./floor.c', import.meta.url)), '-o', binary, '-lcrypto'], { stdio: 'pipe' });
    const result = JSON.parse(execFileSync(binary, { encoding: 'utf8' })) as { sealNs: number; openNs: number; openssl: string };
    return { sealNs: result.sealNs, openNs: result.openNs, openssl: result.openssl };
  } catch (error) {
    return { gap: `gcc with OpenSSL development files is needed (${error instanceof Error ? error.message.split('\n')[0] : String(error)})` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
