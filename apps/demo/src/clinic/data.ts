/** A patient of the demo clinic, as the application writes it. */
export interface PatientSeed {
  readonly tenantId: 'north' | 'south';
  readonly name: string;
  readonly ssn: string;
  readonly diagnosis: string;
  readonly email: string;
  readonly visits: number;
}

/** Two tenants (clinics), each with its own CMK. */
export const TENANTS = ['north', 'south'] as const;

/** The keyring (CMK + KEK) of a tenant. */
export const keyringOf = (tenantId: unknown): string => `clinic-${String(tenantId)}`;

/** Every patient is a segment of its own (per-patient DEK), so one patient can be crypto-shredded. */
export const segmentOf = ({ model, id, record }: { model: string; id: string | undefined; record: Readonly<Record<string, unknown>> }): string =>
  `patient:${model === 'Patient' ? String(id) : String(record.patientId)}`;

export const PATIENTS: readonly PatientSeed[] = [
  { tenantId: 'north', name: 'Ada Lovelace', ssn: '123-45-6789', diagnosis: 'Type 2 diabetes', email: 'ada@north.example', visits: 3 },
  { tenantId: 'north', name: 'Grace Hopper', ssn: '234-56-7890', diagnosis: 'Hypertension', email: 'grace@north.example', visits: 120 },
  { tenantId: 'north', name: 'Edsger Dijkstra', ssn: '345-67-8901', diagnosis: 'Migraine', email: 'edsger@north.example', visits: 2 },
  { tenantId: 'south', name: 'Alan Turing', ssn: '456-78-9012', diagnosis: 'Asthma', email: 'alan@south.example', visits: 4 },
  { tenantId: 'south', name: 'Barbara Liskov', ssn: '567-89-0123', diagnosis: 'Seasonal allergies', email: 'barbara@south.example', visits: 1 },
];

/** The visit notes of a patient (encrypted too). */
export const visitNote = (p: PatientSeed, day: number): string => `Day ${day}: ${p.diagnosis} follow-up for ${p.name.split(' ')[0]}`;

/** Every plaintext the database must never hold (names are not secret in this demo). */
export const SECRETS: readonly string[] = PATIENTS.flatMap((p) => [p.ssn, p.diagnosis, p.email]);
