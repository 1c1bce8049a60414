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

/** Progress of a long operation, for progress bars and logs. */
export interface Progress {
  readonly phase: string;
  readonly done: number;
  /** Total when known. */
  readonly total?: number;
}

/** Receives {@link Progress} events. */
export type ProgressListener = (progress: Progress) => void;

/** The current time as an ISO string. */
export const now = (): string => new Date().toISOString();
