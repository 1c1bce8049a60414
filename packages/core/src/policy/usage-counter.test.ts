import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { KeystrataError } from '../errors/keystrata-error.js';
import { MemoryKeyStore } from '../key-store/memory-key-store.js';
import { DekUsageCounter } from './usage-counter.js';

/** A memory store whose reservations take a while and record how many run at once per DEK. */
class SlowReservations extends MemoryKeyStore {
  running = 0;
  maxRunning = 0;
  calls = 0;
  fail = false;
  override async reserveDekUses(requests: ReadonlyArray<{ readonly dekId: string; readonly count: number }>): Promise<Map<string, number>> {
    this.calls++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await sleep(5);
      if (this.fail) throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'The key store is down (test).');
      return await super.reserveDekUses(requests);
    } finally {
      this.running--;
    }
  }
}

const limits = { limit: 1600, block: 100 };

describe('DekUsageCounter', () => {
  it('issue 15 §3: one block reservation in flight per DEK per process: concurrent writers share it, nothing is handed out twice', async () => {
    const store = new SlowReservations();
    const counter = new DekUsageCounter(store);
    const taken = await Promise.all(
      Array.from({ length: 30 }, async (): Promise<number> => {
        if (counter.take('d1', 7, limits)) return 7;
        expect(await counter.refill('d1', 7, limits)).toBe(true);
        return counter.take('d1', 7, limits) ? 7 : 0;
      }),
    );
    expect(store.maxRunning).toBe(1);
    expect(counter.stats.used).toBe(taken.reduce((a, b) => a + b, 0));
    expect(counter.stats.used).toBeLessThanOrEqual(counter.stats.reserved);
    expect((await store.loadDekUses(['d1'])).get('d1')).toBe(counter.stats.reserved);
  });

  it('issue 15 §3: uses past the limit are never handed out; the DEK is then reported spent', async () => {
    const counter = new DekUsageCounter(new MemoryKeyStore());
    let used = 0;
    for (let i = 0; i < 400; i++) {
      if (counter.take('d2', 5, limits) || ((await counter.refill('d2', 5, limits)) && counter.take('d2', 5, limits))) used += 5;
    }
    expect(used).toBe(1600);
    expect(counter.exhausted('d2')).toBe(true);
    expect(await counter.refill('d2', 1, limits)).toBe(false);
  });

  it('issue 15 §3: a failed background reservation is not retried on every value; the next refill reserves (or fails closed)', async () => {
    const store = new SlowReservations();
    const counter = new DekUsageCounter(store);
    expect(await counter.refill('d3', 1, limits)).toBe(true); // 100 uses
    store.fail = true;
    for (let i = 0; i < 80; i++) expect(counter.take('d3', 1, limits)).toBe(true); // a quarter left: one background try
    await sleep(20);
    for (let i = 0; i < 20; i++) expect(counter.take('d3', 1, limits)).toBe(true);
    expect(store.calls).toBe(2);
    expect(counter.take('d3', 1, limits)).toBe(false);
    await expect(counter.refill('d3', 1, limits)).rejects.toMatchObject({ code: 'KEYSTORE_UNAVAILABLE' });
    store.fail = false;
    expect(await counter.refill('d3', 1, limits)).toBe(true);
  });
});
