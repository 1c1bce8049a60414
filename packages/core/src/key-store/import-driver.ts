import { KeystrataError } from '../errors/keystrata-error.js';

/** Whether `error` says that the package `name` itself (not something it loads) cannot be found. */
const isPackageNotFound = (error: unknown, name: string): boolean => {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && typeof message === 'string' && message.includes(`'${name}'`);
};

/**
 * Loads an optional database driver on demand; a driver that is not installed is `CONFIG_INVALID`
 * naming the package to install (the drivers are optional peer dependencies).
 *
 * @example
 * ```ts
 * const pg = await importDriver(() => import('pg'), 'pg', 'PostgreSQL');
 * ```
 */
export async function importDriver<T>(load: () => Promise<T>, name: string, database: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isPackageNotFound(error, name)) throw error;
    throw new KeystrataError('CONFIG_INVALID', `A ${database} key store needs the package ${name}, which is not installed.`, {
      hint: `Install it in your application: npm install ${name} (it is an optional peer dependency, so it is installed only by those who use ${database}).`,
      details: { package: name },
    });
  }
}
