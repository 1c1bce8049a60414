import { isEnvelope } from '@keystrata/core/adapter';
import { loadConfig, openRootKey } from '@keystrata/cli';
import { PATIENTS, SECRETS, visitNote } from '../clinic/data.js';
import { clinicMongo } from '../clinic/mongo.js';
import { MONGO_HINT } from '../clinic/ferretdb.js';
import { rawRows } from '../clinic/sqlite-raw.js';
import { clinicTypeorm, PatientEntity } from '../clinic/typeorm.js';
import type { StepScope } from './report.js';
import { leaks, short, type StoryState } from './state.js';

/** 1. Provision: token, a CMK per tenant, KEKs; show the hierarchy. */
export async function provision(s: StoryState, out: StepScope): Promise<void> {
  const status = await s.clinic.cli(['status']);
  for (const line of status.stdout.trimEnd().split('\n')) out.say(line);
  const json = JSON.parse((await s.clinic.cli(['status', '--json'])).stdout) as { keyrings: Array<{ keyring: string; cmks: Array<{ state: string }> }> };
  out.check('a SoftHSM2 token lives in the project directory (.keystrata/)', status.stdout.includes('pkcs11 token "keystrata-dev"'));
  for (const keyring of ['clinic-north', 'clinic-south']) {
    out.check(`tenant keyring ${keyring} has its own CMK (v1, primary)`, json.keyrings.find((k) => k.keyring === keyring)?.cmks[0]?.state === 'primary');
  }
}

/** 2. Prisma: create patients with nested visits, look one up by e-mail, app view vs database. */
export async function prisma(s: StoryState, out: StepScope): Promise<void> {
  const { db, file } = s.clinic;
  for (const p of PATIENTS) {
    const created = await db.patient.create({
      data: {
        tenantId: p.tenantId,
        name: p.name,
        ssn: p.ssn,
        diagnosis: p.diagnosis,
        email: p.email,
        visits: { create: Array.from({ length: p.visits }, (_, i) => ({ tenantId: p.tenantId, day: i + 1, note: visitNote(p, i + 1) })) },
      },
    });
    s.ids.set(p.email, created.id);
  }
  out.say(`created ${PATIENTS.length} patients with ${PATIENTS.reduce((n, p) => n + p.visits, 0)} nested visits through db.patient.create(…)`);
  const ada = await db.patient.findFirst({ where: { email: 'ada@north.example' }, include: { visits: { orderBy: { day: 'asc' }, take: 1 } } });
  const [raw] = rawRows(file, 'SELECT * FROM "Patient" WHERE id = ?', [ada?.id]);
  out.say('db.patient.findFirst({ where: { email: "ada@north.example" } })  — looked up through the blind index');
  out.sideBySide('what the application sees', 'what the database holds', [
    [`name: ${ada?.name}`, `name: ${String(raw?.name)}`],
    [`ssn: ${ada?.ssn}`, `ssn: ${short(raw?.ssn)}`],
    [`diagnosis: ${ada?.diagnosis}`, `diagnosis: ${short(raw?.diagnosis)}`],
    [`email: ${ada?.email}`, `email: ${short(raw?.email)}`],
    [`visit: ${ada?.visits[0]?.note}`, `emailIndex: ${short(raw?.emailIndex)}`],
  ]);
  out.check('the blind-index lookup found Ada with her plaintext', ada?.ssn === '123-45-6789' && ada.visits[0]?.note === visitNote(PATIENTS[0]!, 1));
  const patients = rawRows(file, 'SELECT * FROM "Patient"');
  const visits = rawRows(file, 'SELECT * FROM "Visit"');
  out.check(
    'every SSN, diagnosis, e-mail and visit note in the database is a ks1 envelope',
    [...patients.flatMap((r) => [r.ssn, r.diagnosis, r.email]), ...visits.map((v) => v.note)].every(isEnvelope),
  );
  out.check('no plaintext SSN, diagnosis or e-mail anywhere in the rows', leaks([patients, visits], SECRETS).length === 0);
}

/** 3. TypeORM on the same database reads what Prisma wrote, updates one; Prisma reads it back. */
export async function typeorm(s: StoryState, out: StepScope): Promise<void> {
  const { dataSource, keystrata } = await clinicTypeorm(s.clinic.file, s.clinic.hierarchy);
  try {
    const repo = dataSource.getRepository(PatientEntity);
    const seen = await repo.find({ order: { name: 'ASC' } });
    for (const p of seen) out.say(`TypeORM reads ${p.name.padEnd(16)} ssn ${p.ssn}  diagnosis ${p.diagnosis}`);
    const fromPrisma = await s.clinic.db.patient.findMany({ orderBy: { name: 'asc' } });
    out.check(
      'TypeORM reads every patient Prisma wrote, identical plaintext, no re-encryption',
      JSON.stringify(seen.map((p) => [p.id, p.ssn, p.diagnosis, p.email])) === JSON.stringify(fromPrisma.map((p) => [p.id, p.ssn, p.diagnosis, p.email])),
    );
    const alan = await repo.findOneByOrFail({ email: 'alan@south.example' });
    await repo.update(alan.id, { diagnosis: 'Asthma, well controlled' });
    out.say(`TypeORM: repository.update(alan, { diagnosis: 'Asthma, well controlled' })`);
    const back = await s.clinic.db.patient.findUniqueOrThrow({ where: { id: alan.id } });
    out.say(`Prisma reads it back: ${back.diagnosis}`);
    out.check('Prisma reads the update TypeORM wrote', back.diagnosis === 'Asthma, well controlled');
    const [raw] = rawRows(s.clinic.file, 'SELECT diagnosis FROM "Patient" WHERE id = ?', [alan.id]);
    out.check('the updated diagnosis is stored as ciphertext', isEnvelope(raw?.diagnosis) && !String(raw?.diagnosis).includes('Asthma'));
  } finally {
    await keystrata.close();
    await dataSource.destroy();
  }
}

/** 4. Mongoose on FerretDB (or MONGODB_URI): the same operations; skipped with advice if no server. */
export async function mongoose(s: StoryState, out: StepScope): Promise<void> {
  let mongo: Awaited<ReturnType<typeof clinicMongo>> | undefined;
  try {
    mongo = await clinicMongo(s.clinic.dir, await openRootKey(loadConfig(s.clinic.configFile)));
  } catch (error) {
    out.skip(`no MongoDB-compatible server could be started (${String((error as Error).message).split('\n')[0]}); ${MONGO_HINT}`);
    return;
  }
  if (mongo === undefined) {
    out.skip(`no MongoDB-compatible server found: ${MONGO_HINT}`);
    return;
  }
  s.mongo = mongo;
  out.say(`server: ${mongo.server.description}; keys in the same database (keystrata_* collections)`);
  const docs = await mongo.Patient.create(PATIENTS.map(({ visits: _v, ...p }) => p));
  const grace = await mongo.Patient.findOne({ email: 'grace@north.example' }).lean();
  const raw = await mongo.connection.db!.collection('patients').findOne({ _id: docs[1]!._id });
  out.sideBySide('what the application sees', 'what the collection holds', [
    [`ssn: ${grace?.ssn}`, `ssn: ${short(raw?.ssn)}`],
    [`diagnosis: ${grace?.diagnosis}`, `diagnosis: ${short(raw?.diagnosis)}`],
    [`email: ${grace?.email}`, `email: ${short(raw?.email)}`],
  ]);
  out.check('Patient.findOne({ email }) finds Grace through the blind index', grace?.ssn === '234-56-7890');
  await mongo.Patient.updateOne({ _id: docs[3]!._id }, { $set: { diagnosis: 'Asthma, well controlled' } });
  out.check('updateOne($set) stores ciphertext and reads back plaintext', (await mongo.Patient.findById(docs[3]!._id).lean())?.diagnosis === 'Asthma, well controlled');
  const all = await mongo.connection.db!.collection('patients').find().toArray();
  out.check('no plaintext SSN, diagnosis or e-mail in the raw collection', leaks(all, SECRETS).length === 0 && all.every((d) => isEnvelope(d.ssn)));
}
