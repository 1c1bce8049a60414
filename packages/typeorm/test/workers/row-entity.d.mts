/** The entity of the issue 15 §2 worker tests (row-entity.mjs). */
export declare class Ledger {
  id: number;
  tenantId: string;
  value: string;
}
