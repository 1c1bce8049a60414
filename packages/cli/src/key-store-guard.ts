import { KeystrataError, type KeyStore } from '@keystrata/core';

const UNAVAILABLE_HINT = 'Check keyStore.url (or KEYSTRATA_DATABASE_URL), that the database is running and reachable, and that this user may open it.';

/**
 * A key-store failure as `KEYSTORE_UNAVAILABLE` (a KeystrataError passes unchanged): a driver's own
 * error (SqliteError, a refused connection, a MongoDB server-selection timeout) would otherwise reach
 * the CLI as `INTERNAL`. The cause keeps only the driver error's class and code.
 *
 * @example
 * ```ts
 * throw asKeyStoreError(error, 'opening the key store');
 * ```
 */
export function asKeyStoreError(error: unknown, doing: string): KeystrataError {
  // The core's own KEYSTORE_UNAVAILABLE cannot name the CLI's settings: re-issued with the CLI's hint.
  if (KeystrataError.isInstance(error) && error.code !== 'KEYSTORE_UNAVAILABLE') return error;
  return new KeystrataError('KEYSTORE_UNAVAILABLE', `The key store failed while ${doing}.`, { cause: error, hint: UNAVAILABLE_HINT });
}

/**
 * The key store with every method's failure reported as {@link asKeyStoreError}: whatever a command
 * does, a database fault is `KEYSTORE_UNAVAILABLE`, never `INTERNAL`. `onClose` runs after `close()`
 * (e.g. to close a connection the key store does not own).
 *
 * @example
 * ```ts
 * const keyStore = guardKeyStore(new SqlKeyStore(driver));
 * ```
 */
export function guardKeyStore(keyStore: KeyStore, onClose?: () => Promise<void>): KeyStore {
  return new Proxy(keyStore, {
    get(target, property) {
      // The target as receiver: getters such as `queryCount` read private fields.
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const name = String(property);
      const method = value as (...args: unknown[]) => unknown;
      if (name === 'close') {
        return async () => {
          try {
            await method.apply(target, []);
          } catch (error) {
            throw asKeyStoreError(error, 'closing');
          } finally {
            await onClose?.();
          }
        };
      }
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = method.apply(target, args);
        } catch (error) {
          throw asKeyStoreError(error, `running ${name}`);
        }
        if (result instanceof Promise) return result.catch((error: unknown) => Promise.reject(asKeyStoreError(error, `running ${name}`)));
        return result;
      };
    },
  });
}
