import type { SoftHsmToken } from './softhsm.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's SoftHSM2 token (global-setup-services). */
    softhsm: SoftHsmToken;
    /** The run's private PostgreSQL server (global-setup-services). */
    postgresUrl: string;
    /** The run's MongoDB wire-protocol server: FerretDB, or MONGODB_URI (global-setup-ferretdb). */
    mongodbUri: string;
  }
}
