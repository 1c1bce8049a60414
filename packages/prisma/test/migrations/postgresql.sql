-- Tables of test/prisma/postgresql/schema.prisma, applied with pg (no `prisma migrate`).
CREATE TABLE "User" (
  "id" TEXT NOT NULL PRIMARY KEY,
  "tenantId" TEXT NOT NULL,
  "email" TEXT NOT NULL,
  "emailIndex" TEXT,
  "name" TEXT,
  "role" TEXT NOT NULL DEFAULT 'member'
);
CREATE UNIQUE INDEX "User_emailIndex_key" ON "User"("emailIndex");

CREATE TABLE "Post" (
  "id" TEXT NOT NULL PRIMARY KEY,
  "tenantId" TEXT NOT NULL,
  "title" TEXT NOT NULL,
  "published" BOOLEAN NOT NULL DEFAULT false,
  "authorId" TEXT NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE "Comment" (
  "id" SERIAL PRIMARY KEY,
  "tenantId" TEXT NOT NULL,
  "body" TEXT NOT NULL,
  "postId" TEXT NOT NULL REFERENCES "Post" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE "profiles" (
  "id" TEXT NOT NULL PRIMARY KEY,
  "tenantId" TEXT NOT NULL,
  "bio_cipher" TEXT NOT NULL,
  "userId" TEXT NOT NULL UNIQUE REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE "Patient" (
  "id" TEXT NOT NULL PRIMARY KEY,
  "tenantId" TEXT NOT NULL,
  "ssn" TEXT NOT NULL,
  "email" TEXT NOT NULL,
  "emailIndex" TEXT,
  "note" TEXT
);
CREATE UNIQUE INDEX "Patient_emailIndex_key" ON "Patient"("emailIndex");

CREATE TABLE "Tag" (
  "id" SERIAL PRIMARY KEY,
  "label" TEXT NOT NULL
);
