import { KeystrataError } from '@keystrata/core';
import { envelopeDekId } from '@keystrata/core/adapter';
import { prismaReencryptionHook } from '@keystrata/prisma';
import { keyringOf, PATIENTS } from '../clinic/data.js';
import { rawRows, rawRun } from '../clinic/sqlite-raw.js';
import type { StepScope } from './report.js';
import type { StoryState } from './state.js';

const codeOf = (error: unknown) => (KeystrataError.isInstance(error) ? error.code : String(error));
const dekVersions = (file: string, dekId: string) =>
  rawRows(file, 'SELECT d.kek_version, k.cmk_version FROM keystrata_dek d JOIN keystrata_kek k ON k.keyring = d.keyring AND k.version = d.kek_version WHERE d.id = ?', [dekId])[0] as
    | { kek_version: number; cmk_version: number }
    | undefined;

/** 5. Rotate a tenant's CMK and KEK: everything still reads; new writes use the new versions. */
export async function rotateRoots(s: StoryState, out: StepScope): Promise<void> {
  const { clinic } = s;
  const cmk = await clinic.cli(['rotate', 'cmk', '--keyring', 'clinic-north']);
  out.say(`keystrata rotate cmk --keyring clinic-north → ${cmk.stdout.trim()}`);
  const kek = await clinic.cli(['rotate', 'kek', '--keyring', 'clinic-north']);
  out.say(`keystrata rotate kek --keyring clinic-north → ${kek.stdout.trim()}`);
  clinic.hierarchy.clearCache(); // as if the application restarted: every key is unwrapped again, through the new CMK
  const all = await clinic.db.patient.findMany({ include: { visits: true } });
  out.check('every patient and visit still decrypts after the rotations', all.length === PATIENTS.length && all.every((p) => p.ssn.length > 0 && p.visits.every((v) => v.note.length > 0)));
  const margaret = await clinic.db.patient.create({ data: { tenantId: 'north', name: 'Margaret Hamilton', ssn: '678-90-1234', diagnosis: 'Healthy', email: 'margaret@north.example' } });
  s.ids.set('margaret@north.example', margaret.id);
  const [raw] = rawRows(clinic.file, 'SELECT ssn FROM "Patient" WHERE id = ?', [margaret.id]);
  const versions = dekVersions(clinic.file, envelopeDekId(raw?.ssn));
  out.say(`a new north patient's DEK is wrapped by KEK v${versions?.kek_version}, itself wrapped by CMK v${versions?.cmk_version}`);
  out.check('new writes use KEK v2 under CMK v2', versions?.kek_version === 2 && versions.cmk_version === 2);
  const rewrap = await clinic.cli(['rewrap', '--keyring', 'clinic-north']);
  out.say(`keystrata rewrap --keyring clinic-north → ${rewrap.stdout.trim()}`);
  out.check('keystrata rewrap moved the older DEKs under KEK v2 without touching data', rewrap.code === 0 && /now under KEK v2/.test(rewrap.stdout));
}

/** 6. Rotate one segment's DEK: Grace's 121 rows are re-encrypted, with a progress bar. */
export async function rotateSegment(s: StoryState, out: StepScope): Promise<void> {
  const { clinic } = s;
  const id = s.ids.get('grace@north.example')!;
  const before = rawRows(clinic.file, 'SELECT note FROM "Visit" WHERE "patientId" = ?', [id]).map((r) => envelopeDekId(r.note));
  const hook = prismaReencryptionHook(clinic.db, {
    segmentWhere: (segment, model) => (model === 'Patient' ? { id: segment.slice('patient:'.length) } : { patientId: segment.slice('patient:'.length) }),
  });
  const result = await clinic.hierarchy.rotateDek({
    segment: `patient:${id}`,
    keyring: keyringOf('north'),
    hook,
    batchSize: 25,
    onProgress: (p) => s.progress('re-encrypting Grace Hopper', p.done, p.total ?? p.done),
  });
  out.say(`new DEK v${result.version} for segment patient:${id}; ${result.reencrypted} rows re-encrypted in batches of 25 (resumable)`);
  const after = [
    ...rawRows(clinic.file, 'SELECT ssn FROM "Patient" WHERE id = ?', [id]).map((r) => r.ssn),
    ...rawRows(clinic.file, 'SELECT note FROM "Visit" WHERE "patientId" = ?', [id]).map((r) => r.note),
  ].map(envelopeDekId);
  out.check("all of the segment's rows moved from the old DEK to the new one", after.length === 121 && after.every((dek) => dek === result.dekId) && before.every((dek) => dek !== result.dekId));
  const grace = await clinic.db.patient.findUniqueOrThrow({ where: { id }, include: { visits: true } });
  out.check('Grace still reads the same, visits included', grace.ssn === '234-56-7890' && grace.visits.length === 120);
}

/** 7. Crypto-shred one patient: destroy their DEK; the row stays, unreadable; everyone else reads fine. */
export async function shred(s: StoryState, out: StepScope): Promise<void> {
  const { clinic } = s;
  const id = s.ids.get('edsger@north.example')!;
  const destroy = await clinic.cli(['destroy', 'dek', '--segment', `patient:${id}`, '--keyring', keyringOf('north'), '--confirm', `patient:${id}`]);
  out.say(`keystrata destroy dek --segment patient:${id} … → ${destroy.stdout.trim()}`);
  clinic.hierarchy.clearCache(); // another process learns of it within the cache's max age; here: at once
  const stillThere = rawRows(clinic.file, 'SELECT id FROM "Patient" WHERE id = ?', [id]).length === 1;
  const error = await clinic.db.patient.findUniqueOrThrow({ where: { id } }).then(() => 'none', codeOf);
  const shown = await clinic.lenientDb.patient.findUniqueOrThrow({ where: { id } });
  out.say(`the row is still there; reading it fails with ${error}; with placeholders the app shows ssn ${String(shown.ssn)}`);
  out.check("the shredded patient's row is still in the database", stillThere);
  out.check('reading it fails with KEY_DESTROYED', error === 'KEY_DESTROYED');
  const others = await clinic.db.patient.findMany({ where: { id: { not: id } } });
  out.check('everyone else still reads fine', others.length === PATIENTS.length && others.every((p) => p.ssn.length === 11));
}

/** 8. Verify the audit trail, then show that editing one audit row is detected. */
export async function audit(s: StoryState, out: StepScope): Promise<void> {
  const { clinic } = s;
  const verify = await clinic.cli(['audit', 'verify']);
  out.say(`keystrata audit verify → ${verify.stdout.trim()}`);
  out.check('the audit trail verifies (HMAC chain computed inside the HSM)', verify.code === 0);
  const [row] = rawRows(clinic.file, "SELECT seq, subject FROM keystrata_audit WHERE event = 'destroy' ORDER BY seq DESC LIMIT 1") as Array<{ seq: number; subject: string }>;
  rawRun(clinic.file, 'UPDATE keystrata_audit SET subject = ? WHERE seq = ?', ['segment:clinic-north:nobody', row!.seq]);
  out.say(`someone with database access rewrites audit record #${row!.seq} to hide the shredding…`);
  const tampered = await clinic.cli(['audit', 'verify']);
  out.say(`keystrata audit verify → ${tampered.stderr.trim()}`);
  out.check('the edited audit row is detected (AUDIT_CHAIN_BROKEN)', tampered.code !== 0 && tampered.stderr.includes(`AUDIT_CHAIN_BROKEN: Audit record ${row!.seq}`));
  rawRun(clinic.file, 'UPDATE keystrata_audit SET subject = ? WHERE seq = ?', [row!.subject, row!.seq]);
  out.check('restoring the original row makes the chain verify again', (await clinic.cli(['audit', 'verify'])).code === 0);
}
