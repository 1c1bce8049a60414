/** A patient as every adapter's conformance model holds it: `ssn` and `email` encrypted, `email` blind-indexed. */
export interface ConformancePatient {
  readonly tenantId: string;
  readonly ssn: string;
  readonly email: string;
}

/**
 * What an ORM adapter gives the conformance suite: ordinary ORM calls through the adapter, and
 * raw driver access that bypasses it. The model is `Patient { id, tenantId, ssn @encrypted,
 * email @encrypted(index: emailIndex), emailIndex }`, segmented per tenant (`tenantId`).
 */
export interface ConformanceContext {
  /** Creates a patient through the ORM; returns its id. */
  create(patient: ConformancePatient): Promise<string>;
  /** Reads a patient through the ORM; throws the adapter's error if it cannot be decrypted. */
  read(id: string): Promise<ConformancePatient>;
  /** Updates the ssn through the ORM. */
  updateSsn(id: string, ssn: string): Promise<void>;
  /** Ids of patients whose email equals `email`, through the blind index. */
  findIdsByEmail(email: string): Promise<string[]>;
  /** The stored row/document as the database driver returns it (no adapter involved). */
  rawRead(id: string): Promise<Record<string, unknown>>;
  /** Overwrites one stored column/path with the driver. */
  rawWrite(id: string, field: 'ssn' | 'email', value: string): Promise<void>;
  /** Number of stored patients, counted with the driver. */
  rawCount(): Promise<number>;
  /** Disables (reversibly) every DEK of a tenant's segment. */
  revokeTenant(tenantId: string): Promise<void>;
  /** Makes the HSM unreachable for this adapter (and empties the key cache). */
  breakHsm(): Promise<void>;
  /** Queries the adapter must refuse with QUERY_UNSUPPORTED (e.g. `contains` on ssn, ordering by email). */
  readonly unsupportedQueries: Readonly<Record<string, () => Promise<unknown>>>;
  teardown(): Promise<void>;
}

/** An adapter under test: one fresh context (database, key store, hierarchy) per test. */
export interface ConformanceHarness {
  readonly name: string;
  setup(): Promise<ConformanceContext>;
}
