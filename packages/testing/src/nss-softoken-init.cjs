// Initialises the user PIN of a fresh NSS softoken database through the PKCS#11 API, in its own
// process: NSS allows one C_Initialize of libsoftokn3 per process, which the test's root key needs.
// Reads { pkcs11js, module, libraryParameters, label, pin } as JSON on stdin (no PIN in arguments).
'use strict';
const { readFileSync } = require('node:fs');

const input = JSON.parse(readFileSync(0, 'utf8'));
const pkcs11js = require(input.pkcs11js);
const pkcs11 = new pkcs11js.PKCS11();
pkcs11.load(input.module);
// pkcs11js 2.1 copies libraryParameters one byte short: the NUL keeps the last real character.
pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK, libraryParameters: `${input.libraryParameters}\u0000` });
try {
  const slot = pkcs11.C_GetSlotList(true).find((s) => pkcs11.C_GetTokenInfo(s).label.trim() === input.label);
  if (slot === undefined) throw new Error(`NSS softoken shows no token "${input.label}" (dbTokenDescription)`);
  const session = pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    // A fresh NSS key database has an empty security-officer PIN; C_InitPIN sets the user PIN.
    pkcs11.C_Login(session, pkcs11js.CKU_SO, '');
    pkcs11.C_InitPIN(session, input.pin);
    pkcs11.C_Logout(session);
  } finally {
    pkcs11.C_CloseSession(session);
  }
  const flags = pkcs11.C_GetTokenInfo(slot).flags;
  if ((flags & pkcs11js.CKF_USER_PIN_INITIALIZED) === 0) throw new Error('NSS softoken did not mark the user PIN initialised');
} finally {
  pkcs11.C_Finalize();
}
