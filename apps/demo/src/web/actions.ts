import { KeystrataError, UnreadableValue } from '@keystrata/core';
import { prismaReencryptionHook } from '@keystrata/prisma';
import type { Clinic } from '../clinic/clinic.js';
import { keyringOf } from '../clinic/data.js';
import { rawRows } from '../clinic/sqlite-raw.js';

/** What the page shows: the key tree, the patients as the app sees them beside the stored values, the audit state. */
export async function clinicState(clinic: Clinic) {
  const status = await clinic.hierarchy.status();
  const deks = rawRows(clinic.file, 'SELECT keyring, segment, version, kek_version, state FROM keystrata_dek ORDER BY keyring, segment, version');
  const patients = await clinic.lenientDb.patient.findMany({ orderBy: { name: 'asc' } });
  const raw = new Map(rawRows(clinic.file, 'SELECT id, ssn, diagnosis, email FROM "Patient"').map((r) => [r.id, r]));
  const shown = (value: unknown) => (UnreadableValue.isInstance(value) ? { unreadable: value.code } : value);
  const audit = await clinic.hierarchy.verifyAudit().then(
    (v) => ({ valid: true, records: v.records }),
    (e: unknown) => ({ valid: false, code: KeystrataError.isInstance(e) ? e.code : 'ERROR' }),
  );
  const names = new Map(patients.map((p) => [`patient:${p.id}`, p.name]));
  return {
    keyrings: status.keyrings.map((k) => ({ ...k, dekList: deks.filter((d) => d.keyring === k.keyring).map((d) => ({ ...d, patient: names.get(String(d.segment)) })) })),
    patients: patients.map((p) => ({
      id: p.id,
      tenantId: p.tenantId,
      name: p.name,
      segment: `patient:${p.id}`,
      app: { ssn: shown(p.ssn), diagnosis: shown(p.diagnosis), email: shown(p.email) },
      stored: raw.get(p.id),
    })),
    audit,
    stats: status.stats,
  };
}

/** The buttons: the same calls the story makes. */
export async function clinicAction(clinic: Clinic, action: string, body: { keyring?: string; patientId?: string }): Promise<unknown> {
  // Only unencrypted columns: this works for a revoked or shredded patient too.
  const patient = body.patientId === undefined ? undefined : await clinic.db.patient.findUniqueOrThrow({ where: { id: body.patientId }, select: { id: true, tenantId: true } });
  const segmentRef = () => ({ kind: 'segment' as const, segment: `patient:${patient!.id}`, keyring: keyringOf(patient!.tenantId) });
  switch (action) {
    case 'rotate-cmk':
      return clinic.hierarchy.rotateCmk({ keyring: body.keyring! });
    case 'rotate-kek':
      return clinic.hierarchy.rotateKek({ keyring: body.keyring! });
    case 'revoke':
      return clinic.hierarchy.disable(segmentRef());
    case 'enable':
      return clinic.hierarchy.enable(segmentRef());
    case 'shred':
      return clinic.hierarchy.destroy(segmentRef());
    case 'rotate-dek': {
      const hook = prismaReencryptionHook(clinic.db, { segmentWhere: (segment, model) => (model === 'Patient' ? { id: segment.slice(8) } : { patientId: segment.slice(8) }) });
      return clinic.hierarchy.rotateDek({ segment: `patient:${patient!.id}`, keyring: keyringOf(patient!.tenantId), hook });
    }
    default:
      throw new KeystrataError('CONFIG_INVALID', `Unknown action ${action}.`);
  }
}
