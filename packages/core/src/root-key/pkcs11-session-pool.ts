import pkcs11js from 'pkcs11js';
import type * as P11 from 'pkcs11js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { ckrName, isLoggedIn, isLostSession, toKeystrataError } from './pkcs11-errors.js';
import type { Pkcs11Module } from './pkcs11-module.js';
import { readPin, type PinSource } from './pin-source.js';
import { pinFingerprint, tokenLogins, type TokenLogins } from './pin-registry.js';

/** What to check when the module shows no token with the configured label or slot. */
const NO_TOKEN_HINT =
  'Check the token label or slot (hsm.tokenLabel, KEYSTRATA_TOKEN_LABEL); for SoftHSM2, that SOFTHSM2_CONF (or moduleEnvironment.SOFTHSM2_CONF, hsm.softhsm2Conf) points at the configuration whose tokendir holds the token (keystrata hsm init-dev writes .keystrata/softhsm2.conf); for a new development token, run `keystrata hsm init-dev`.';

/** How the pool finds its token: by label, slot id or slot index (exactly one). */
export interface TokenSelector {
  readonly tokenLabel?: string | undefined;
  readonly slotId?: number | bigint | undefined;
  readonly slotIndex?: number | undefined;
}

type Handle = P11.Handle;
interface Lease {
  readonly session: Handle;
  readonly generation: number;
}

/** Return values after which the sessions are alive but an object handle or the login is stale. */
const STALE_HANDLE = new Set(['CKR_OBJECT_HANDLE_INVALID', 'CKR_KEY_HANDLE_INVALID', 'CKR_WRAPPING_KEY_HANDLE_INVALID', 'CKR_UNWRAPPING_KEY_HANDLE_INVALID']);
const PIN_REJECTED = new Set(['CKR_PIN_INCORRECT', 'CKR_PIN_INVALID', 'CKR_PIN_LEN_RANGE', 'CKR_PIN_LOCKED', 'CKR_PIN_EXPIRED']);

/**
 * A pool of logged-in PKCS#11 sessions, safe under concurrent async use: each operation holds one
 * session exclusively. On a lost session it reopens sessions (never finalising the module, so no
 * call in flight can lose the library under it), logs in once and retries the operation once.
 * A PIN the token rejected is never sent again: the pool fails every later call with
 * `HSM_PIN_INCORRECT` without touching the HSM, and so does any pool of this process given that PIN.
 */
export class Pkcs11SessionPool {
  readonly #module: Pkcs11Module;
  readonly #selector: TokenSelector;
  readonly #pin: PinSource;
  readonly #size: number;
  #generation = -1;
  #slot: Handle | undefined;
  #logins: TokenLogins | undefined;
  #free: Lease[] = [];
  #waiters: Array<() => void> = [];
  #opening: Promise<void> | undefined;
  #recovering: Promise<void> | undefined;
  #refused: KeystrataError | undefined;
  #inFlight = 0;
  #drained: Array<() => void> = [];
  #closed = false;
  reconnects = 0;
  /** Invalidated whenever sessions are re-established (object handles may change). */
  onReconnect: () => void = () => {};

  constructor(module: Pkcs11Module, selector: TokenSelector, pin: PinSource, size: number) {
    this.#module = module;
    this.#selector = selector;
    this.#pin = pin;
    this.#size = size;
  }

  get slot(): Handle | undefined {
    return this.#slot;
  }

  /** Opens the sessions and logs in (also validates the PIN up front). */
  async open(): Promise<void> {
    if (this.#closed)
      throw new KeystrataError('HSM_UNAVAILABLE', 'The root key was closed.', {
        hint: 'The application closed this root key (or its hierarchy) before the operation ran: open a new one; the HSM itself is fine.',
      });
    if (this.#refused !== undefined) throw this.#refused;
    if (this.#current) return;
    this.#opening ??= this.#openNow().finally(() => (this.#opening = undefined));
    await this.#opening;
  }

  /** Whether the pool's sessions belong to the module's current generation. */
  get #current(): boolean {
    return this.#generation === this.#module.generation && this.#slot !== undefined;
  }

  async #openNow(): Promise<void> {
    const { pkcs11 } = this.#module;
    // Drain first: no call may still run on a session of an earlier generation, since the
    // handles opened now can reuse those numbers; only then initialise again if needed.
    await this.#module.drained();
    this.#module.ensureInitialised();
    let slot: Handle;
    try {
      slot = this.#findSlot(pkcs11);
    } catch (error) {
      // A module initialised while its token store was away (NSS softoken: the database directory
      // missing) shows no token until it is initialised again: once, for a pool that had its token
      // before (never on a first open), when nothing else uses the module.
      if (this.#slot === undefined || !this.#module.reinitialiseIfAlone()) throw error;
      slot = this.#findSlot(pkcs11);
    }
    const generation = this.#module.generation;
    const sessions: Handle[] = [];
    try {
      for (let i = 0; i < this.#size; i++) sessions.push(pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION));
      await this.#login(sessions[0]!);
    } catch (error) {
      for (const session of sessions)
        try {
          pkcs11.C_CloseSession(session);
        } catch {
          /* ignore */
        }
      this.#wakeAll();
      throw toKeystrataError(error, 'open a logged-in session');
    }
    this.#slot = slot;
    this.#generation = generation;
    this.#free = sessions.map((session) => ({ session, generation }));
    this.onReconnect();
    this.#wakeAll();
  }

  /**
   * Logs in with the PIN source's PIN, at most once per PIN per process: a PIN the token rejected is
   * refused here without calling C_Login, and a second PIN for a token this process is already
   * logged in to is refused (the token would not check it), and so is a token found already logged in
   * when this process recorded no login to it (something else logged in: the PIN was not checked).
   */
  async #login(session: Handle): Promise<void> {
    const { pkcs11 } = this.#module;
    const logins = this.#logins!;
    let pin: string | undefined = await readPin(this.#pin);
    const fingerprint = pinFingerprint(pin);
    const refuse = (message: string, cause?: unknown): never => {
      this.#refused = new KeystrataError('HSM_PIN_INCORRECT', message, { cause, details: { operation: 'log in' } });
      throw this.#refused;
    };
    if (logins.refused.has(fingerprint)) refuse('The HSM already rejected this PIN in this process; it is not tried again. Fix the PIN source and reopen the root key (or restart).');
    try {
      pkcs11.C_Login(session, pkcs11js.CKU_USER, pin);
      logins.loggedIn = fingerprint;
    } catch (error) {
      const name = ckrName(error);
      if (name === 'CKR_USER_ALREADY_LOGGED_IN') {
        if (logins.loggedIn === undefined) {
          refuse(
            'The token is already logged in, but not by a Keystrata root key of this process (another PKCS#11 user of the module), so this PIN cannot be checked and is refused. Open the root key before other users of the module log in.',
          );
        }
        if (logins.loggedIn !== fingerprint) {
          refuse('This process is already logged in to the token with a different PIN; a second PIN is refused.');
        }
        return;
      }
      if (name !== undefined && PIN_REJECTED.has(name)) {
        logins.refused.add(fingerprint);
        this.#refused = toKeystrataError(error, 'log in');
        throw this.#refused;
      }
      throw error;
    } finally {
      pin = undefined;
    }
  }

  #findSlot(pkcs11: P11.PKCS11): Handle {
    let slots: Handle[];
    try {
      slots = pkcs11.C_GetSlotList(true);
    } catch (error) {
      throw toKeystrataError(error, 'list slots');
    }
    const { tokenLabel, slotId, slotIndex } = this.#selector;
    const label = (slot: Handle): string => pkcs11.C_GetTokenInfo(slot).label.trim();
    const found = tokenLabel !== undefined ? slots.find((s) => label(s) === tokenLabel) : slotId !== undefined ? slots.find((s) => s.readBigUInt64LE() === BigInt(slotId)) : slots[slotIndex ?? -1];
    if (found === undefined) {
      const which = tokenLabel !== undefined ? `token "${tokenLabel}"` : slotId !== undefined ? `slot id ${slotId}` : `slot index ${slotIndex}`;
      throw new KeystrataError('HSM_UNAVAILABLE', `No initialised ${which} in module ${this.#module.path} (it shows ${slots.length} initialised token${slots.length === 1 ? '' : 's'}).`, {
        hint: NO_TOKEN_HINT,
      });
    }
    const info = pkcs11.C_GetTokenInfo(found);
    this.#logins = tokenLogins(`${this.#module.realPath}|${info.serialNumber.trim()}|${info.label.trim()}`);
    return found;
  }

  #wakeAll(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  #release(lease: Lease): void {
    // A session of an earlier generation is gone (or unknown): it is dropped, never closed, since
    // its handle number may since belong to another session.
    if (lease.generation === this.#generation && this.#current) this.#free.push(lease);
    else if (!this.#current) this.#free = [];
    this.#waiters.shift()?.();
  }

  async #acquire(): Promise<Lease> {
    for (;;) {
      await this.open();
      const lease = this.#free.pop();
      if (lease !== undefined) return lease;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /**
   * After a lost session: a stale object handle only clears the handle cache; a lost login logs in
   * again on a live session; anything else marks every session of the module stale, so the next
   * acquire drains the calls still in flight and opens new sessions. Single-flight per pool.
   */
  async #recover(lease: Lease, error: unknown): Promise<void> {
    const name = ckrName(error) ?? '';
    this.onReconnect();
    // A stale object handle with a live login only needs the cleared handle cache; a logged-out
    // session hides private objects behind the same return values.
    const loggedOut = name === 'CKR_USER_NOT_LOGGED_IN' || (STALE_HANDLE.has(name) && lease.generation === this.#module.generation && !isLoggedIn(this.#module.pkcs11, lease.session));
    if (STALE_HANDLE.has(name) && !loggedOut) return;
    if (lease.generation !== this.#module.generation) return;
    this.#recovering ??= (async () => {
      this.reconnects++;
      if (loggedOut) {
        const again = await this.#acquire();
        this.#module.enter(again.generation);
        try {
          await this.#login(again.session);
          return;
        } catch (loginError) {
          if (this.#refused !== undefined) throw this.#refused;
          if (!isLostSession(loginError)) throw loginError;
        } finally {
          this.#module.leave(again.generation);
          this.#release(again);
        }
      }
      this.#module.invalidate(lease.generation);
    })().finally(() => (this.#recovering = undefined));
    await this.#recovering;
  }

  /**
   * Runs `fn` with an exclusive session; `operation` names it in errors.
   *
   * @example
   * ```ts
   * const handle = await pool.run('find CMK', (session, pkcs11) => pkcs11.C_FindObjects(session));
   * ```
   */
  async run<T>(operation: string, fn: (session: Handle, pkcs11: P11.PKCS11) => T | Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let lease: Lease;
      try {
        lease = await this.#acquire();
      } catch (error) {
        throw toKeystrataError(error, operation);
      }
      let failure: unknown;
      this.#inFlight++;
      this.#module.enter(lease.generation);
      try {
        return await fn(lease.session, this.#module.pkcs11);
      } catch (error) {
        failure = error;
      } finally {
        this.#module.leave(lease.generation);
        this.#inFlight--;
        this.#release(lease);
        if (this.#inFlight === 0) for (const done of this.#drained.splice(0)) done();
      }
      if (attempt === 0 && !this.#closed && isLostSession(failure)) {
        try {
          await this.#recover(lease, failure);
        } catch (recoverError) {
          throw toKeystrataError(recoverError, operation);
        }
        continue;
      }
      throw toKeystrataError(failure, operation);
    }
  }

  /** Refuses new calls, waits for the calls in flight to end, then closes the sessions. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wakeAll();
    if (this.#inFlight > 0) await new Promise<void>((resolve) => this.#drained.push(resolve));
    const { pkcs11 } = this.#module;
    if (this.#current)
      for (const { session } of this.#free)
        try {
          pkcs11.C_CloseSession(session);
        } catch {
          /* ignore */
        }
    this.#free = [];
    this.#slot = undefined;
  }
}
