import type { KeyStore } from '../key-store/key-store.js';
import type { RootKey } from '../root-key/root-key.js';
import type { AuditLog } from './audit-log.js';
import type { KeyResolver } from './key-resolver.js';

/** What the lifecycle operations share with the {@link KeyHierarchy}. */
export interface HierarchyInternals {
  readonly rootKey: RootKey;
  readonly keyStore: KeyStore;
  readonly resolver: KeyResolver;
  readonly audit: AuditLog;
  readonly defaultKeyring: string;
  readonly cmkLabelPrefix: string;
}

/**
 * Progress of a long operation, for progress bars and logs.
 *
 * @example
 * ```ts
 * const report = ({ phase, done, total }: Progress) => process.stderr.write(`${phase}: ${done}${total === undefined ? '' : `/${total}`}\n`);
 * await hierarchy.rotateCmk({ onProgress: report }); // 'rewrap KEKs: 3/12', …
 * ```
 */
export interface Progress {
  readonly phase: string;
  readonly done: number;
  /** Total when known. */
  readonly total?: number;
}

/**
 * Receives {@link Progress} events.
 *
 * @example
 * ```ts
 * const onProgress: ProgressListener = (progress) => logger.debug(progress); // { phase: 'rewrap DEKs', done: 1200 }
 * await hierarchy.rewrapDeks({ onProgress });
 * ```
 */
export type ProgressListener = (progress: Progress) => void;

/** The current time as an ISO string. */
export const now = (): string => new Date().toISOString();
