// SoftHSM2 members for the issue 14 tests, each in its own token directory with its own copy of the
// library (a module is initialised once per process, with one SOFTHSM2_CONF, so two token
// directories in one process need two loaded libraries). Plain .mjs: used by vitest tests and by
// the child processes of the fault tests alike.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';

const CANDIDATES = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib64/pkcs11/libsofthsm2.so'];

/** The system SoftHSM2 library. */
export function softHsmLibrary() {
  const found = process.env.KEYSTRATA_PKCS11_MODULE || CANDIDATES.find((path) => existsSync(path));
  if (!found) throw new Error('SoftHSM2 is not installed: run `bash scripts/setup`.');
  return found;
}

const PIN = '1234-member-pin';

/** A member token directory: conf, tokens/, its own library copy. `init` false: an empty tokens/ to copy a clone into. */
export function createMemberToken(name, { label = `member-${name}`, init = true, root } = {}) {
  const directory = mkdtempSync(join(root ?? tmpdir(), `keystrata-member-${name}-`));
  const tokens = join(directory, 'tokens');
  mkdirSync(tokens, { recursive: true });
  const conf = join(directory, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  const module = join(directory, 'libsofthsm2.so');
  copyFileSync(softHsmLibrary(), module);
  if (init) execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', PIN, '--so-pin', 'so-5678'], { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'pipe' });
  return { name, module, tokenLabel: label, pin: PIN, directory, tokens, conf, moduleEnvironment: { SOFTHSM2_CONF: conf } };
}

/** A second member holding a copy of `source`'s token directory (vendor cloning, the SoftHSM2 way). */
export function cloneMemberToken(source, name) {
  const clone = createMemberToken(name, { label: source.tokenLabel, init: false });
  rmSync(clone.tokens, { recursive: true, force: true });
  cpSync(source.tokens, clone.tokens, { recursive: true });
  return clone;
}

/** The member options `openPkcs11Members` takes. */
export function memberOptions(token, pin = token.pin) {
  const libraryParameters = token.libraryParameters === undefined ? {} : { libraryParameters: token.libraryParameters };
  return { name: token.name, module: token.module, tokenLabel: token.tokenLabel, pin: () => pin, moduleEnvironment: token.moduleEnvironment ?? {}, ...libraryParameters };
}

/**
 * Takes a member away for real: its token directory disappears and its module is finalised under
 * the library through a second pkcs11js handle (as a crashed daemon or pulled device looks).
 */
export function takeAway(token) {
  renameSync(token.tokens, `${token.tokens}-away`);
  const handle = new pkcs11js.PKCS11();
  handle.load(token.module);
  try {
    handle.C_Finalize();
  } catch {
    /* not initialised */
  }
}

/** Brings a member taken away back (its token directory returns; the root's probe initialises it again). */
export function bringBack(token) {
  renameSync(`${token.tokens}-away`, token.tokens);
}
