import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KeystrataError } from '../errors/keystrata-error.js';
import { readPin } from './pin-source.js';

const failure = (p: Promise<unknown>): Promise<KeystrataError> =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as KeystrataError,
  );

describe('PIN sources never quote a PIN (issue 11 §4)', () => {
  it('issue 11 §4: a PIN pasted into pin.env by mistake is not quoted in the error', async () => {
    const error = await failure(readPin({ env: '918273' }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(JSON.stringify(error.toJSON())).not.toContain('918273');
    expect(error.message).toMatch(/name withheld/);
  });

  it('issue 11 §4 (review): a letters-and-digits PIN pasted into pin.env is not quoted either', async () => {
    const error = await failure(readPin({ env: 'Hunter2pin' }));
    expect(JSON.stringify(error.toJSON())).not.toContain('Hunter2pin');
  });

  it('issue 11 §4: a PIN pasted into pin.file by mistake is not quoted in the error', async () => {
    const error = await failure(readPin({ file: '918273' }));
    expect(JSON.stringify(error.toJSON())).not.toContain('918273');
  });

  it('names a missing variable or file that looks like one, so the operator can fix it', async () => {
    delete process.env.KEYSTRATA_TEST_PIN_UNSET;
    expect((await failure(readPin({ env: 'KEYSTRATA_TEST_PIN_UNSET' }))).message).toContain('environment variable KEYSTRATA_TEST_PIN_UNSET');
    const missing = join(mkdtempSync(join(tmpdir(), 'keystrata-pin-')), 'dev.pin');
    expect((await failure(readPin({ file: missing }))).message).toContain(missing);
  });

  it('reads a PIN from a file, trimmed', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keystrata-pin-')), 'dev.pin');
    writeFileSync(file, '1234\n');
    expect(await readPin({ file })).toBe('1234');
  });
});
