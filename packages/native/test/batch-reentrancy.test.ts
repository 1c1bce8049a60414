// Issue 16 §memory, from a security review: re-entrancy into JS while the addon holds raw native pointers.
// read_batch() captures key_material pointers one by one with napi_get_element(); a getter on the
// keys array runs JS in between, so a key already captured can be released (freed) before the
// batch uses it -> use-after-free of key_material / EVP_CIPHER_CTX. Run in a child process: the
// expected (correct) behaviour is a thrown ERR_KEYSTRATA_NATIVE_KEY_RELEASED, not a crash.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const lib = join(import.meta.dirname, '..', 'lib', 'index.cjs');

const script = (op: 'seal' | 'open') => `
const n = require(${JSON.stringify(lib)});
const k0 = new n.AeadKey(Buffer.alloc(32, 1));
const k1 = new n.AeadKey(Buffer.alloc(32, 2));
const keys = [k0];
// index 1 is a getter: by the time it runs, keys[0]'s material pointer was already captured.
Object.defineProperty(keys, 1, { enumerable: true, get() { k0.release(); return k1; } });
const input = Buffer.alloc(256);
const output = Buffer.alloc(256);
const status = new Uint8Array(1);
const table = ${op === 'seal' ? 'Uint32Array.of(0, 0, 12, 16, 28, 0, 0)' : 'Uint32Array.of(0, 0, 12, 16, 28, 44, 0, 0)'};
try {
  const failed = n.${op}Batch(keys, table, input, output, status);
  console.log('RESULT failed=' + failed + ' status=' + status[0] + ' released=' + k0.released);
} catch (e) { console.log('THREW ' + e.code); }
`;

describe('native batch re-entrancy (a key released by JavaScript running during the call)', () => {
  for (const op of ['seal', 'open'] as const) {
    it(`issue 16 §memory (review): ${op}Batch refuses a key released by a getter on the keys array during the call (no use after free)`, () => {
      const r = spawnSync(process.execPath, ['-e', script(op)], { encoding: 'utf8', timeout: 20_000 });
      const out = `${r.stdout}${r.stderr}`;
      // Correct behaviour: the batch notices the release and throws; the process survives.
      expect({ status: r.status, signal: r.signal, out: out.slice(0, 400) }).toMatchObject({ status: 0, signal: null });
      expect(out).toContain('THREW ERR_KEYSTRATA_NATIVE_KEY_RELEASED');
    });
  }
});
