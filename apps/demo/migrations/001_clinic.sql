-- Tables of prisma/schema.prisma, applied with better-sqlite3 (no `prisma migrate`).
CREATE TABLE IF NOT EXISTS "Patient" (
  "id" TEXT NOT NULL PRIMARY KEY,
  "tenantId" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "ssn" TEXT NOT NULL,
  "diagnosis" TEXT NOT NULL,
  "email" TEXT NOT NULL,
  "emailIndex" TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS "Patient_emailIndex_key" ON "Patient"("emailIndex");
CREATE TABLE IF NOT EXISTS "Visit" (
  "id" TEXT NOT NULL PRIMARY KEY,
  "tenantId" TEXT NOT NULL,
  "day" INTEGER NOT NULL,
  "note" TEXT NOT NULL,
  "patientId" TEXT NOT NULL,
  CONSTRAINT "Visit_patientId_fkey" FOREIGN KEY ("patientId") REFERENCES "Patient" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
