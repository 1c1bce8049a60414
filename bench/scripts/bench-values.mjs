// The values of bench/src/data.ts (emailOf / ssnOf, 40 bytes each) for the plain-Node bench scripts:
// 10,000 rows over 100 tenants, and the 20,000 encrypt items they make.
const pad = (n, w) => String(n).padStart(w, '0');

export const rows = Array.from({ length: 10_000 }, (_, seq) => ({
  id: `c${pad(seq, 24)}`,
  tenant: `t${pad(seq % 100, 3)}`,
  email: `patient.${pad(seq, 6)}@tenant-${pad(seq % 1000, 3)}.clinic.example`,
  ssn: `SSN 123-45-${pad(seq % 10_000, 4)} MRN ${pad(seq, 8)} site-A1`.padEnd(40, '.').slice(0, 40),
}));

export const items = rows.flatMap((r) => ['email', 'ssn'].map((field) => ({ value: r[field], context: { model: 'Patient', field, recordId: r.id, segment: `tenantId:${r.tenant}` } })));
