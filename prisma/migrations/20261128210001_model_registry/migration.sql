-- CreateEnum
CREATE TYPE "ModelVersionState" AS ENUM ('UPLOADING', 'VERIFYING', 'READY', 'FAILED');

-- CreateEnum
CREATE TYPE "UploadSessionState" AS ENUM ('ACTIVE', 'COMPLETED', 'ABORTED');

-- CreateTable
CREATE TABLE "models" (
    "id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "name" VARCHAR(63) NOT NULL,
    "description" VARCHAR(1000),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "models_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_versions" (
    "id" UUID NOT NULL,
    "model_id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "version" VARCHAR(63) NOT NULL,
    "state" "ModelVersionState" NOT NULL DEFAULT 'UPLOADING',
    "failure_reason" TEXT,
    "metadata" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "verified_at" TIMESTAMPTZ(3),

    CONSTRAINT "model_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_files" (
    "id" UUID NOT NULL,
    "version_id" UUID NOT NULL,
    "path" VARCHAR(1024) NOT NULL,
    "size" BIGINT NOT NULL,
    "sha256" CHAR(64) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "model_files_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "upload_sessions" (
    "id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "version_id" UUID NOT NULL,
    "path" VARCHAR(1024) NOT NULL,
    "object_key" VARCHAR(2048) NOT NULL,
    "s3_upload_id" VARCHAR(1024) NOT NULL,
    "size" BIGINT NOT NULL,
    "part_size" INTEGER NOT NULL,
    "part_count" INTEGER NOT NULL,
    "expected_sha256" CHAR(64),
    "state" "UploadSessionState" NOT NULL DEFAULT 'ACTIVE',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "upload_sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "upload_parts" (
    "session_id" UUID NOT NULL,
    "part_number" INTEGER NOT NULL,
    "size" INTEGER NOT NULL,
    "etag" VARCHAR(200) NOT NULL,
    "sha256" CHAR(64) NOT NULL,
    "hash_state" BYTEA,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "upload_parts_pkey" PRIMARY KEY ("session_id","part_number")
);

-- CreateIndex
CREATE UNIQUE INDEX "models_project_id_name_key" ON "models"("project_id", "name");

-- CreateIndex
CREATE INDEX "model_versions_project_id_idx" ON "model_versions"("project_id");

-- CreateIndex
CREATE UNIQUE INDEX "model_versions_model_id_version_key" ON "model_versions"("model_id", "version");

-- CreateIndex
CREATE UNIQUE INDEX "model_files_version_id_path_key" ON "model_files"("version_id", "path");

-- CreateIndex
CREATE INDEX "upload_sessions_state_expires_at_idx" ON "upload_sessions"("state", "expires_at");

-- CreateIndex
CREATE INDEX "upload_sessions_version_id_idx" ON "upload_sessions"("version_id");

-- AddForeignKey
ALTER TABLE "models" ADD CONSTRAINT "models_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_model_id_fkey" FOREIGN KEY ("model_id") REFERENCES "models"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_files" ADD CONSTRAINT "model_files_version_id_fkey" FOREIGN KEY ("version_id") REFERENCES "model_versions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "upload_sessions" ADD CONSTRAINT "upload_sessions_version_id_fkey" FOREIGN KEY ("version_id") REFERENCES "model_versions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "upload_parts" ADD CONSTRAINT "upload_parts_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "upload_sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
