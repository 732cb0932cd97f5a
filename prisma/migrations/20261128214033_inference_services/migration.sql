-- CreateEnum
CREATE TYPE "ServicePhase" AS ENUM ('PENDING', 'DEPLOYING', 'READY', 'DEGRADED', 'UPDATING', 'FAILED', 'DELETING', 'DELETED');

-- CreateTable
CREATE TABLE "inference_services" (
    "id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "name" VARCHAR(63) NOT NULL,
    "served_model_name" VARCHAR(200) NOT NULL,
    "namespace" VARCHAR(63) NOT NULL,
    "model_version_id" UUID NOT NULL,
    "spec" JSONB NOT NULL,
    "generation" INTEGER NOT NULL DEFAULT 1,
    "applied_generation" INTEGER,
    "phase" "ServicePhase" NOT NULL DEFAULT 'PENDING',
    "phase_reason" TEXT,
    "last_error" TEXT,
    "observed" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "inference_services_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "service_events" (
    "id" UUID NOT NULL,
    "service_id" UUID NOT NULL,
    "type" VARCHAR(16) NOT NULL,
    "reason" VARCHAR(100) NOT NULL,
    "message" TEXT NOT NULL,
    "data" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "service_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "inference_services_phase_idx" ON "inference_services"("phase");

-- CreateIndex
CREATE UNIQUE INDEX "inference_services_project_id_name_key" ON "inference_services"("project_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "inference_services_project_id_served_model_name_key" ON "inference_services"("project_id", "served_model_name");

-- CreateIndex
CREATE INDEX "service_events_service_id_created_at_idx" ON "service_events"("service_id", "created_at");

-- AddForeignKey
ALTER TABLE "inference_services" ADD CONSTRAINT "inference_services_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "inference_services" ADD CONSTRAINT "inference_services_model_version_id_fkey" FOREIGN KEY ("model_version_id") REFERENCES "model_versions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "service_events" ADD CONSTRAINT "service_events_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "inference_services"("id") ON DELETE CASCADE ON UPDATE CASCADE;
