// Shared set-up of the member tests: the token shape member-tokens.mjs makes, the options a member
// opens with, things to close after each test, and small assertion helpers.
import pkcs11js from 'pkcs11js';
import { afterEach } from 'vitest';
// @ts-expect-error: a plain .mjs helper shared with the child processes
import { memberOptions } from './member-tokens.mjs';

/** A SoftHSM2 member token from member-tokens.mjs (its own token directory, configuration and library copy). */
export interface MemberToken {
  name: string;
  module: string;
  tokenLabel: string;
  pin: string;
  conf: string;
  tokens: string;
  directory: string;
  moduleEnvironment: { SOFTHSM2_CONF: string };
}

/** The options a member token opens with (`openPkcs11Members` members, `Pkcs11RootKey.open`). */
export const options = (t: MemberToken) => memberOptions(t) as { name: string; module: string; tokenLabel: string; pin: () => string; moduleEnvironment: Record<string, string> };

/** A list whose entries are closed (in reverse order, errors ignored) after each test of the file. */
export function closedAfterEach(): Array<{ close(): Promise<void> }> {
  const closing: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const thing of closing.splice(0).reverse()) await thing.close().catch(() => undefined);
  });
  return closing;
}

/** The code a promise rejects with ('none' when it resolves, 'untyped' without a code). */
export const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'none',
    (error: { code?: string }) => error.code ?? 'untyped',
  );

/** The blob with its `kw` header naming CKM_AES_KEY_WRAP_PAD (0x210A) instead of CKM_AES_KEY_WRAP: 40 bytes is a length 0x210A promises. */
export const relabelled = (copy: Buffer): Buffer => {
  const changed = Buffer.from(copy);
  changed.writeUInt32BE(0x210a, 3);
  return changed;
};

/**
 * The attacker's own PKCS#11 handle on one member token (its PIN, nothing else): a logged-in RW
 * session passed to `use`, closed after.
 */
export function withAttackerSession<T>(token: MemberToken, use: (p: pkcs11js.PKCS11, session: Buffer) => T): T {
  process.env.SOFTHSM2_CONF = token.conf;
  const p = new pkcs11js.PKCS11();
  p.load(token.module);
  try {
    p.C_Initialize();
  } catch {
    /* already initialised in this process */
  }
  const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === token.tokenLabel)!;
  const session = p.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    try {
      p.C_Login(session, pkcs11js.CKU_USER, token.pin);
    } catch {
      /* logged in already */
    }
    return use(p, session);
  } finally {
    p.C_CloseSession(session);
  }
}
