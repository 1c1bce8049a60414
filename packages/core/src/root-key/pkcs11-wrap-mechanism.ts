import type * as P11 from 'pkcs11js';
import { CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD } from './wrapped-kek-format.js';

/** CKF_WRAP and CKF_UNWRAP in CK_MECHANISM_INFO.flags (pkcs11js does not export them). */
const CKF_WRAP = 0x20000;
const CKF_UNWRAP = 0x40000;

/** Which KEK wrap mechanisms a token offers, and the one new wrapped KEKs are written with. */
export interface WrapMechanisms {
  /** Mechanisms listed with both CKF_WRAP and CKF_UNWRAP: a stored blob naming another is refused. */
  readonly supported: ReadonlySet<number>;
  /** `CKM_AES_KEY_WRAP` (0x2109, byte-identical on every module) where listed, else `CKM_AES_KEY_WRAP_PAD`. */
  readonly write: number;
}

/** Whether the token lists `mechanism` with both wrap and unwrap (C_GetMechanismInfo). */
function wrapsAndUnwraps(pkcs11: P11.PKCS11, slot: Buffer, listed: ReadonlySet<number>, mechanism: number): boolean {
  if (!listed.has(mechanism)) return false;
  const { flags } = pkcs11.C_GetMechanismInfo(slot, mechanism);
  return (flags & CKF_WRAP) !== 0 && (flags & CKF_UNWRAP) !== 0;
}

/**
 * The KEK wrap mechanisms of the token in `slot`, from C_GetMechanismList (`listed`) and
 * C_GetMechanismInfo; undefined when it offers neither. The portable `CKM_AES_KEY_WRAP` is
 * preferred: `CKM_AES_KEY_WRAP_PAD` is RFC 5649 on SoftHSM2 but RFC 3394 with PKCS#7 padding on
 * NSS softoken, so its blobs only open on the kind of module that wrote them.
 *
 * @example
 * ```ts
 * const wrap = chooseWrapMechanism(pkcs11, slot, new Set(pkcs11.C_GetMechanismList(slot)));
 * ```
 */
export function chooseWrapMechanism(pkcs11: P11.PKCS11, slot: Buffer, listed: ReadonlySet<number>): WrapMechanisms | undefined {
  const supported = new Set([CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD].filter((mechanism) => wrapsAndUnwraps(pkcs11, slot, listed, mechanism)));
  if (supported.has(CKM_AES_KEY_WRAP)) return { supported, write: CKM_AES_KEY_WRAP };
  if (supported.has(CKM_AES_KEY_WRAP_PAD)) return { supported, write: CKM_AES_KEY_WRAP_PAD };
  return undefined;
}
