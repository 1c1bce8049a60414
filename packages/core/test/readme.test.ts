import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, inject, it } from 'vitest';
import { runReadmeExample } from '@keystrata/testing';

it('runs the README example against SoftHSM2 and SQLite', async () => {
  const token = inject('softhsm');
  const logged = await runReadmeExample(dirname(dirname(fileURLToPath(import.meta.url))), {
    KEYSTRATA_PKCS11_MODULE: token.module,
    KEYSTRATA_TOKEN_LABEL: token.tokenLabel,
    KEYSTRATA_HSM_PIN: token.pin,
    SOFTHSM2_CONF: token.conf,
    KEYSTRATA_EXAMPLE_DB: join(mkdtempSync(join(tmpdir(), 'readme-')), 'keys.db'),
  });
  expect(logged).toEqual(['true', '123-45-6789', 'CIPHERTEXT_TAMPERED', 'KEY_DESTROYED']);
});
