/** The entity of the re-encryption workers bench (ledger-entity.mjs). */
export declare class Ledger {
  id: number;
  tenantId: string;
  value: string;
}
