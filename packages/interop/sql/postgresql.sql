-- The Patient table of prisma/postgresql/schema.prisma, applied with pg by test/support/stack.ts.
-- The keystrata_* key store tables are created in the same database by SqlKeyStore.migrate().
CREATE TABLE "Patient" (
  "id" TEXT NOT NULL,
  "tenantId" TEXT NOT NULL,
  "ssn" TEXT NOT NULL,
  "email" TEXT NOT NULL,
  "emailIndex" TEXT,
  CONSTRAINT "Patient_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "Patient_emailIndex_key" ON "Patient"("emailIndex");
