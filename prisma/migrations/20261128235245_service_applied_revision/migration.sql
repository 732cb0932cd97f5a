-- AlterTable
ALTER TABLE "inference_services" ADD COLUMN     "applied_at" TIMESTAMPTZ(3),
ADD COLUMN     "applied_resource_version" VARCHAR(64);
