-- Tables of test/prisma/sqlite/schema.prisma, applied with better-sqlite3 (no `prisma migrate`).
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
  "authorId" TEXT NOT NULL,
  CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE "Comment" (
  "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  "tenantId" TEXT NOT NULL,
  "body" TEXT NOT NULL,
  "postId" TEXT NOT NULL,
  CONSTRAINT "Comment_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE "profiles" (
  "id" TEXT NOT NULL PRIMARY KEY,
  "tenantId" TEXT NOT NULL,
  "bio_cipher" TEXT NOT NULL,
  "userId" TEXT NOT NULL,
  CONSTRAINT "profiles_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "profiles_userId_key" ON "profiles"("userId");

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
  "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  "label" TEXT NOT NULL
);
