import type { HydratedDocument } from 'mongoose';

declare module 'mongoose' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface SchemaTypeOptions<T, EnforcedDocType = any, THydratedDocumentType = HydratedDocument<EnforcedDocType>> {
    /**
     * Keystrata: store this path as an AES-256-GCM envelope (`true`), optionally with a blind
     * index for equality lookups (`{ index: 'emailIndex' }`). Not `encrypt`, which Mongoose
     * reserves for MongoDB's own client-side field-level encryption.
     */
    encrypted?: boolean | { readonly index?: string };
  }
}
