/**
 * What one batch of usage records costs the process that writes it: Prisma `createMany` (what
 * libs/gateway's UsageRepository does) against one multi-row INSERT from arrays (`unnest`) sent with
 * `$executeRaw`, on a fresh database. Prints CPU time (this process) per 1,000 records and the longest
 * event-loop stall (what a request being proxied by the same process waits).
 *   npx tsx test/bench/gateway/usage-insert.ts [batchSize=500] [batches=40]
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PrismaPg } from '@prisma/adapter-pg';
import { applyMigrations } from '../../../libs/db/src/migrator';
import { PrismaClient } from '../../../libs/db/src/generated/client';
import { createDatabaseIfMissing, dropDatabase, startStack } from '../../../libs/testing/src';

async function main() {
  const batchSize = Number(process.argv[2] ?? 500);
  const batches = Number(process.argv[3] ?? 40);
  const root = path.resolve(__dirname, '../../..');
  const stack = await startStack({
    dataDir: path.join(root, '.troupe', 'bench'),
    env: {},
    database: 'postgres',
  });
  const dbName = `troupe_bench_usage_${Date.now()}`;
  await createDatabaseIfMissing(stack.databaseUrl, dbName);
  const url = new URL(stack.databaseUrl);
  url.pathname = `/${dbName}`;
  await applyMigrations(url.toString());
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url.toString(), max: 4 }) });
  try {
    const projectId = randomUUID();
    await prisma.project.create({ data: { id: projectId, name: 'usage', displayName: 'usage' } });
    const batch = () =>
      Array.from({ length: batchSize }, () => ({
        projectId,
        serviceId: null,
        serviceName: 'bench',
        apiKeyId: randomUUID(),
        endpoint: 'chat/completions',
        status: 200,
        promptTokens: 13,
        completionTokens: 16,
        durationMs: 1,
        createdAt: new Date(),
      }));
    type Entry = ReturnType<typeof batch>[number];
    const ways: [string, (rows: Entry[]) => Promise<unknown>][] = [
      ['prisma createMany', (rows) => prisma.usageRecord.createMany({ data: rows })],
      [
        'INSERT ... SELECT FROM unnest($arrays) via $executeRaw',
        (rows) => prisma.$executeRaw`
          INSERT INTO usage_records (project_id, service_id, service_name, api_key_id, endpoint, status,
            prompt_tokens, completion_tokens, duration_ms, created_at)
          SELECT * FROM unnest(${rows.map((r) => r.projectId)}::uuid[], ${rows.map((r) => r.serviceId)}::uuid[],
            ${rows.map((r) => r.serviceName)}::text[], ${rows.map((r) => r.apiKeyId)}::uuid[],
            ${rows.map((r) => r.endpoint)}::text[], ${rows.map((r) => r.status)}::int[],
            ${rows.map((r) => r.promptTokens)}::int[], ${rows.map((r) => r.completionTokens)}::int[],
            ${rows.map((r) => r.durationMs)}::int[], ${rows.map((r) => r.createdAt.toISOString())}::timestamptz[])`,
      ],
    ];
    for (let pass = 0; pass < 2; pass++) {
      for (const [name, insert] of ways) {
        const data = Array.from({ length: batches }, batch);
        for (const rows of data.slice(0, 3)) await insert(rows); // warm-up
        const loop = monitorEventLoopDelay({ resolution: 1 });
        loop.enable();
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        for (const rows of data.slice(3)) await insert(rows);
        const wall = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        loop.disable();
        const records = (batches - 3) * batchSize;
        if (pass === 1)
          console.log(
            `${name.padEnd(56)} ${(((cpu.user + cpu.system) / 1000 / records) * 1000).toFixed(0).padStart(5)} ms CPU / 1,000 records, ` +
              `${((wall / records) * 1000).toFixed(0)} ms wall / 1,000 (batches of ${batchSize}); ` +
              `event loop blocked up to ${(loop.max / 1e6).toFixed(1)} ms (p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms)`,
          );
      }
    }
    const { count } = await prisma.usageRecord
      .aggregate({ _count: { id: true } })
      .then((r) => ({ count: r._count.id }));
    console.log(`${count} rows written`);
  } finally {
    await prisma.$disconnect();
    await dropDatabase(stack.databaseUrl, dbName).catch(() => undefined);
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
