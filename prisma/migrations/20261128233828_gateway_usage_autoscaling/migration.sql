-- AlterTable
ALTER TABLE "inference_services" ADD COLUMN     "autoscaler_state" JSONB,
ADD COLUMN     "autoscaling" JSONB,
ADD COLUMN     "pinned_replicas" INTEGER;

-- AlterTable
ALTER TABLE "projects" ADD COLUMN     "limits" JSONB;

-- CreateTable
CREATE TABLE "usage_records" (
    "id" BIGSERIAL NOT NULL,
    "project_id" UUID NOT NULL,
    "service_id" UUID,
    "service_name" VARCHAR(63) NOT NULL,
    "api_key_id" UUID,
    "endpoint" VARCHAR(32) NOT NULL,
    "status" SMALLINT NOT NULL,
    "prompt_tokens" INTEGER NOT NULL DEFAULT 0,
    "completion_tokens" INTEGER NOT NULL DEFAULT 0,
    "duration_ms" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "usage_records_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "usage_records_project_id_created_at_idx" ON "usage_records"("project_id", "created_at");

-- AddForeignKey
ALTER TABLE "usage_records" ADD CONSTRAINT "usage_records_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "usage_records" ADD CONSTRAINT "usage_records_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "inference_services"("id") ON DELETE SET NULL ON UPDATE CASCADE;
