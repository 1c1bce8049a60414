import { createDecipheriv } from 'node:crypto';
import type { FieldContext, KeyStore, RootKey } from '../src/index.js';
import { decodeFieldValue, kwpUnwrap, openText, SecretKey } from '../src/adapter.js';

/** What an attacker copied before the shred: old key-store rows (from old files, dead tuples or a dump). */
export interface Loot {
  readonly cmks: ReadonlyArray<{ readonly version: number; readonly hsmLabel: string; readonly hsmId: string }>;
  readonly keks: ReadonlyArray<{ readonly version: number; readonly wrapped: string }>;
  readonly deks: ReadonlyArray<{ readonly id: string; readonly wrapped: string }>;
}

/** The value the attacker wants back. */
export interface Victim {
  readonly ciphertext: string;
  readonly context: FieldContext;
  readonly dekId: string;
  readonly plaintext: string;
}

const attempt = async <T>(fn: () => Promise<T> | T): Promise<T | undefined> => {
  try {
    return await fn();
  } catch {
    return undefined;
  }
};

function tryOpen(dek: SecretKey | undefined, victim: Victim): string | undefined {
  if (dek === undefined) return undefined;
  try {
    const plaintext = openText(dek.exposeSecretBytes(), victim.ciphertext, victim.context);
    return String(decodeFieldValue(plaintext));
  } catch {
    return undefined;
  } finally {
    dek.destroy();
  }
}

/**
 * Unwraps a stolen DEK blob with a KEK the attacker holds. A bound (`k2.`) blob is AES-256-GCM: the
 * attacker needs no identity and no tag, only the CTR keystream (counter block = IV ‖ 00000002).
 */
function attackerUnwrapDek(kek: SecretKey, wrapped: string): SecretKey {
  if (!wrapped.startsWith('k2.')) return kwpUnwrap(kek.exposeSecretBytes(), Buffer.from(wrapped, 'base64'), 32);
  const body = Buffer.from(wrapped.slice(3), 'base64');
  const counter = Buffer.concat([body.subarray(0, 12), Buffer.from([0, 0, 0, 2])]);
  const decipher = createDecipheriv('aes-256-ctr', kek.exposeSecretBytes(), counter);
  return SecretKey.takeOwnership(Buffer.concat([decipher.update(body.subarray(12, 44)), decipher.final()]));
}

/**
 * The attacker's script, with the PIN and the HSM (`attackerRoot`, its own PKCS#11 handle): every
 * KEK blob it has (old loot and the live store) under every CMK version it can name, then every DEK
 * blob of the victim under every KEK it got. Returns how it got the plaintext back (empty: it failed).
 */
export async function attackerRecovers(attackerRoot: RootKey, loot: Loot, live: KeyStore, victim: Victim): Promise<string[]> {
  const liveCmks = await live.listCmks();
  const liveKeks = await live.listKeks();
  const cmkRefs = [...loot.cmks, ...liveCmks].map((c) => ({ name: `CMK v${c.version}`, ref: { label: c.hsmLabel, id: c.hsmId } }));
  const kekBlobs = [
    ...loot.keks.map((k) => ({ name: `old KEK v${k.version}`, wrapped: k.wrapped })),
    ...liveKeks.filter((k) => k.wrapped !== '').map((k) => ({ name: `live KEK v${k.version}`, wrapped: k.wrapped })),
  ];
  const dekBlobs = [...loot.deks, ...(await live.loadDekChains([victim.dekId])).map((c) => c.dek)].filter((d) => d.id === victim.dekId && d.wrapped !== '');
  const ways: string[] = [];
  for (const kek of kekBlobs) {
    for (const cmk of cmkRefs) {
      const key = await attempt(() => attackerRoot.unwrapKek(cmk.ref, Buffer.from(kek.wrapped, 'base64')));
      if (key === undefined) continue;
      for (const dek of dekBlobs) {
        const recovered = tryOpen(await attempt(() => attackerUnwrapDek(key, dek.wrapped)), victim);
        if (recovered === victim.plaintext) ways.push(`${kek.name} under ${cmk.name}`);
      }
      key.destroy();
    }
  }
  return ways;
}

/** Which of `needles` (base64 blobs) occur in the raw bytes of `files`. */
export function blobsIn(files: readonly Buffer[], needles: readonly string[]): string[] {
  return needles.filter((needle) => needle !== '' && files.some((file) => file.includes(Buffer.from(needle, 'latin1'))));
}

/**
 * Every string in raw bytes that looks like a wrapped key: base64 of 40 bytes (RFC 5649: legacy KEKs,
 * legacy DEKs), a `kw` KEK (issue 14: 47 or 55 bytes, base64 starting `a3cBAAAh`) or a bound `k2.`
 * DEK (60 bytes). The attacker tries them all.
 */
export function rawBlobs(files: readonly Buffer[]): string[] {
  const found = new Set<string>();
  for (const file of files) {
    const text = file.toString('latin1');
    for (const match of text.matchAll(/[A-Za-z0-9+/]{54}==/g)) found.add(match[0]);
    for (const match of text.matchAll(/k2\.[A-Za-z0-9+/]{80}/g)) found.add(match[0]);
    for (const match of text.matchAll(/a3cBAAAh(?:[A-Za-z0-9+/]{55}=|[A-Za-z0-9+/]{66}==)/g)) found.add(match[0]);
  }
  return [...found];
}
