import pkcs11js from 'pkcs11js';
import type * as P11 from 'pkcs11js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { ckrName, isLostSession, toKeystrataError } from './pkcs11-errors.js';
import type { Pkcs11Module } from './pkcs11-module.js';
import { readPin, type PinSource } from './pin-source.js';

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

/**
 * A pool of logged-in PKCS#11 sessions, safe under concurrent async use: each operation holds one
 * session exclusively. On a lost session or device it re-initialises the module, logs in once,
 * and retries the operation once; it never retries a wrong PIN.
 */
export class Pkcs11SessionPool {
  readonly #module: Pkcs11Module;
  readonly #selector: TokenSelector;
  readonly #pin: PinSource;
  readonly #size: number;
  #generation = -1;
  #slot: Handle | undefined;
  #free: Lease[] = [];
  #waiters: Array<(lease: Lease) => void> = [];
  #opening: Promise<void> | undefined;
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
    if (this.#generation === this.#module.generation && this.#slot !== undefined) return;
    this.#opening ??= this.#openNow().finally(() => (this.#opening = undefined));
    await this.#opening;
  }

  async #openNow(): Promise<void> {
    const { pkcs11 } = this.#module;
    const generation = this.#module.generation;
    const slot = this.#findSlot(pkcs11);
    const sessions: Handle[] = [];
    try {
      for (let i = 0; i < this.#size; i++) sessions.push(pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION));
      const pin = await readPin(this.#pin);
      try {
        pkcs11.C_Login(sessions[0]!, pkcs11js.CKU_USER, pin);
      } catch (error) {
        if (ckrName(error) !== 'CKR_USER_ALREADY_LOGGED_IN') throw error;
      }
    } catch (error) {
      for (const session of sessions) try { pkcs11.C_CloseSession(session); } catch { /* ignore */ }
      throw toKeystrataError(error, 'open a logged-in session');
    }
    this.#slot = slot;
    this.#free = sessions.map((session) => ({ session, generation }));
    this.#generation = generation;
    this.onReconnect();
    while (this.#waiters.length > 0 && this.#free.length > 0) this.#waiters.shift()!(this.#free.pop()!);
  }

  #findSlot(pkcs11: P11.PKCS11): Handle {
    let slots: Handle[];
    try {
      slots = pkcs11.C_GetSlotList(true);
    } catch (error) {
      throw toKeystrataError(error, 'list slots');
    }
    const { tokenLabel, slotId, slotIndex } = this.#selector;
    const found =
      tokenLabel !== undefined ? slots.find((s) => pkcs11.C_GetTokenInfo(s).label.trim() === tokenLabel)
      : slotId !== undefined ? slots.find((s) => s.readBigUInt64LE() === BigInt(slotId))
      : slots[slotIndex ?? -1];
    if (found === undefined) {
      const which = tokenLabel !== undefined ? `token "${tokenLabel}"` : slotId !== undefined ? `slot id ${slotId}` : `slot index ${slotIndex}`;
      throw new KeystrataError('HSM_UNAVAILABLE', `No initialised ${which} in module ${this.#module.path}.`);
    }
    return found;
  }

  #release(lease: Lease): void {
    // A session of an earlier generation died with it; the reopen made fresh ones.
    if (lease.generation !== this.#generation) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(lease);
    else this.#free.push(lease);
  }

  async #acquire(): Promise<Lease> {
    await this.open();
    return this.#free.pop() ?? (await new Promise<Lease>((resolve) => this.#waiters.push(resolve)));
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
    if (this.#closed) throw new KeystrataError('HSM_UNAVAILABLE', 'The root key was closed.', { hint: 'The application closed this root key (or its hierarchy) before the operation ran: open a new one; the HSM itself is fine.' });
    for (let attempt = 0; ; attempt++) {
      const lease = await this.#acquire();
      try {
        const result = await fn(lease.session, this.#module.pkcs11);
        this.#release(lease);
        return result;
      } catch (error) {
        if (attempt === 0 && isLostSession(error)) {
          this.reconnects++;
          await this.#module.reinitialise(lease.generation);
          continue;
        }
        this.#release(lease);
        throw toKeystrataError(error, operation);
      }
    }
  }

  close(): void {
    this.#closed = true;
    const { pkcs11 } = this.#module;
    if (this.#generation === this.#module.generation) {
      for (const { session } of this.#free) try { pkcs11.C_CloseSession(session); } catch { /* ignore */ }
    }
    this.#free = [];
  }
}
