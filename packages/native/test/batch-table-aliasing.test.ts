// Issue 16 §memory, from a security review: the batch table is validated once, then used while the addon writes
// output. Nothing stops `output` from aliasing the table's memory (same ArrayBuffer), so value 0's
// ciphertext overwrites value 1's already-validated offsets/lengths. With a known key the attacker
// picks the plaintext so the ciphertext is the table entry they want: here value 1 then seals 4096
// bytes starting at a 64-byte input buffer (heap over-read, 4032 bytes outside it) into output,
// and decrypting that output discloses process memory. Child process: an out-of-bounds access may
// also crash it. Correct behaviour: refuse aliasing buffers (or copy the table) and never read
// outside `input`.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const lib = join(import.meta.dirname, '..', 'lib', 'index.cjs');

const script = `
const crypto = require('node:crypto');
const n = require(${JSON.stringify(lib)});
const keyBytes = Buffer.alloc(32, 7);
const key = new n.AeadKey(keyBytes);
const iv = Buffer.alloc(12, 9);
// Keystream for (key, iv): GCM ciphertext of zeros.
const ks = n.sealValues([{ key, iv, plaintext: Buffer.alloc(28) }])[0].ciphertext;
const wanted = Buffer.from(Uint32Array.of(0, 0, 0, 4096, 0, 0, 16384).buffer); // value 1: key 0, iv@0, plaintext@0 len 4096, out@16384
const input = new Uint8Array(64);
input.set(iv, 0);
for (let i = 0; i < 28; i++) input[12 + i] = wanted[i] ^ ks[i];
const shared = new ArrayBuffer(65536);
const table = new Uint32Array(shared, 0, 14);
table.set([0, 0, 12, 28, 0, 0, 28,   0, 0, 12, 1, 0, 0, 100]); // both entries valid when checked
const output = new Uint8Array(shared); // aliases the table
const status = new Uint8Array(2);
let out;
try {
  const failed = n.sealBatch([key], table, input, output, status);
  // Value 1 as validated: 1 byte of plaintext (input[12]) sealed to output[100..117).
  const d = crypto.createDecipheriv('aes-256-gcm', keyBytes, iv); d.setAuthTag(Buffer.from(shared, 101, 16));
  const sealed = Buffer.concat([d.update(Buffer.from(shared, 100, 1)), d.final()]);
  const untouched = Buffer.from(shared, 16384, 4112).every((b) => b === 0);
  out = 'SEALED failed=' + failed + ' status=' + Array.from(status) + ' value1AsValidated=' + sealed.equals(Buffer.from(input.subarray(12, 13))) + ' farOutputUntouched=' + untouched;
} catch (e) { out = 'THREW ' + (e.code || e.message); }
console.log(out);
`;

describe('a batch whose output buffer aliases its table', () => {
  it('issue 16 §memory (review): sealBatch uses the table as validated (a private copy), so a value sealed over the table cannot redirect a later entry outside `input`', () => {
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    const out = `${r.stdout}${r.stderr}`;
    expect(r.signal).toBeNull();
    expect(out.trim()).toBe('SEALED failed=0 status=0,0 value1AsValidated=true farOutputUntouched=true');
  });
});
