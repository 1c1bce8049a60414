import { randomUUID } from 'node:crypto';

/** The part of a pg `Client` the listener uses (structural, so users need no `@types/pg`). */
export interface ListenClient {
  connect(): Promise<unknown>;
  query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
  on(event: 'error' | 'end', listener: () => void): unknown;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
}

/** Creates a pg `Client` for the listener (`new pg.Client(config)`). */
export type ListenClientFactory = () => Promise<ListenClient>;

/** What the listener tells its owner; see `SqlDriver.listen`. */
export interface ListenHandlers {
  onReady(): void;
  onNotification(payload: string, schema: string): void;
  onLost(): void;
}

const FIRST_RETRY_MS = 100;
/** How long the listener waits for its own probe notification before it calls the channel broken. */
const PROBE_TIMEOUT_MS = 5_000;
const LAST_RETRY_MS = 5_000;

/** The socket under a pg Client, unref'd so an idle listener never keeps the process alive. */
function unrefSocket(client: ListenClient): void {
  const stream = (client as { connection?: { stream?: { unref?: () => unknown } } }).connection?.stream;
  stream?.unref?.();
}

/**
 * `LISTEN channel` on one dedicated connection, outside the pool. A lost connection
 * (`pg_terminate_backend`, a server restart, a network error) is reported with `onLost` and
 * reconnected with a back-off (100 ms doubling to 5 s); `onReady` follows each successful `LISTEN`.
 * Nothing here keeps the process alive (socket and timers unref'd). `close()` ends it for good.
 *
 * @example
 * ```ts
 * const listener = startPostgresListener(async () => new pg.Client({ connectionString }), 'keystrata_key_change', handlers);
 * await listener.close();
 * ```
 */
export function startPostgresListener(createClient: ListenClientFactory, channel: string, handlers: ListenHandlers): { close(): Promise<void> } {
  let closed = false;
  let current: ListenClient | undefined;
  let timer: NodeJS.Timeout | undefined;
  let delay = FIRST_RETRY_MS;

  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(() => void connect(), delay);
    timer.unref();
    delay = Math.min(delay * 2, LAST_RETRY_MS);
  };

  const connect = async (): Promise<void> => {
    timer = undefined;
    if (closed) return;
    let lost = false;
    let client: ListenClient | undefined;
    const fail = (): void => {
      if (lost) return;
      lost = true;
      if (current === client) current = undefined;
      client?.end().catch(() => undefined);
      if (closed) return;
      handlers.onLost();
      schedule();
    };
    try {
      const created = await createClient();
      client = created;
      current = created;
      created.on('error', fail);
      created.on('end', fail);
      unrefSocket(created);
      await created.connect();
      const schema = String((await created.query('SELECT current_schema() AS schema')).rows[0]?.schema ?? '');
      const probe = `probe:${randomUUID()}`;
      let heard: () => void = () => undefined;
      const probed = new Promise<void>((resolve) => (heard = resolve));
      created.on('notification', (message) => {
        if (lost || message.channel !== channel || typeof message.payload !== 'string') return;
        if (message.payload === probe) heard();
        else if (!message.payload.startsWith('probe:')) handlers.onNotification(message.payload, schema);
      });
      await created.query(`LISTEN ${channel}`);
      // Trusted only once a notification of its own arrives: a pooler in transaction mode (which drops
      // notifications) or a LISTEN that did not take leaves the owner polling instead.
      await created.query(`SELECT pg_notify('${channel}', '${probe}')`);
      let timer: NodeJS.Timeout | undefined;
      const arrived = await Promise.race([probed.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS)).unref())]);
      clearTimeout(timer);
      if (!arrived) throw new Error('the probe notification did not arrive');
      if (closed || lost) return;
      delay = FIRST_RETRY_MS;
      handlers.onReady();
    } catch {
      fail();
    }
  };

  void connect();
  return {
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      const client = current;
      current = undefined;
      await client?.end().catch(() => undefined);
    },
  };
}
