-- The Patient table of prisma/sqlite/schema.prisma, applied with better-sqlite3 by test/support/stack.ts.
-- The keystrata_* key store tables are created in the same file by SqlKeyStore.migrate().
CREATE TABLE "Patient" (
  "id" TEXT NOT NULL PRIMARY KEY,
  "tenantId" TEXT NOT NULL,
  "ssn" TEXT NOT NULL,
  "email" TEXT NOT NULL,
  "emailIndex" TEXT
);
CREATE UNIQUE INDEX "Patient_emailIndex_key" ON "Patient"("emailIndex");
