import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('issue 16 §memory: the native suite under AddressSanitizer', () => {
  it('issue 16 §memory: the addon built with -fsanitize=address passes the Wycheproof, differential, key-handle and HMAC tests with no ASan report', () => {
    const script = join(import.meta.dirname, '..', 'scripts', 'asan.mjs');
    // The script bounds its own child run (240 s) and kills it on timeout; this bounds the script.
    const result = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 280_000, killSignal: 'SIGKILL' });
    const output = `${result.stdout}${result.stderr}`;
    expect(output).not.toMatch(/ERROR: AddressSanitizer/);
    expect(result.status, output.slice(-4000)).toBe(0);
    expect(output).toMatch(/passed against the AddressSanitizer build, no reports/);
  }, 300_000);
});
