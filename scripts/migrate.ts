// Prisma migrations without Prisma's native schema-engine binary (the WebAssembly engine runs them):
//   tsx scripts/migrate.ts deploy              apply pending migrations            (npm run db:migrate)
//   tsx scripts/migrate.ts dev --name <name>   create a migration and apply it     (npm run db:migrate:dev -- --name X)
//   tsx scripts/migrate.ts check               exit 1 and print the SQL on drift   (npm run db:migrate:check)
//   tsx scripts/migrate.ts resolve --rolled-back <name> | --applied <name>   after a failed migration
// DATABASE_URL names the database (for `check`, only its server is used: a shadow database is created
// and dropped there). Also runs compiled: node dist/scripts/migrate.js <command>.
import path from 'node:path';
import {
  applyMigrations,
  checkDrift,
  resolveMigration,
  createMigration,
  findRepoRoot,
  type MigratorOptions,
} from '../libs/db/src/migrator';

const USAGE = `usage: migrate <command> [options]

commands:
  deploy              apply the pending migrations of prisma/migrations
  dev --name <name>   apply pending migrations, then create a migration for the changes in
                      prisma/schema.prisma and apply it
  check               exit 1 (printing the SQL) when prisma/schema.prisma has changes that no
                      migration captures
  resolve --rolled-back <name>
                      mark a failed migration rolled back, so that deploy runs it again
  resolve --applied <name>
                      mark a migration applied without running it (changes made by hand)

options:
  --schema <path>       Prisma schema (default: <repo>/prisma/schema.prisma)
  --migrations <path>   migrations folder (default: <repo>/prisma/migrations)
  --verbose             print the schema engine's log

environment:
  DATABASE_URL          postgresql://user:password@host:port/database`;

class UsageError extends Error {}

interface Args {
  command: string;
  name?: string;
  schema?: string;
  migrations?: string;
  rolledBack?: string;
  applied?: string;
  verbose: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { command: '', verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--name':
      case '-n':
        args.name = value();
        break;
      case '--schema':
        args.schema = value();
        break;
      case '--migrations':
        args.migrations = value();
        break;
      case '--rolled-back':
        args.rolledBack = value();
        break;
      case '--applied':
        args.applied = value();
        break;
      case '--verbose':
        args.verbose = true;
        break;
      case '--help':
      case '-h':
        args.command = 'help';
        break;
      default:
        if (flag.startsWith('-') || args.command) throw new UsageError(`unexpected argument ${arg}`);
        args.command = flag;
    }
  }
  return args;
}

function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new UsageError('DATABASE_URL is not set (postgresql://user:password@host:port/database)');
  return url;
}

function relative(p: string): string {
  return path.relative(process.cwd(), p) || '.';
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.command === 'help') {
    console.log(USAGE);
    return 0;
  }
  const root = args.schema && args.migrations ? undefined : findRepoRoot(__dirname);
  const opts: MigratorOptions = {
    schemaPath: path.resolve(args.schema ?? path.join(root ?? '', 'prisma', 'schema.prisma')),
    migrationsDir: path.resolve(args.migrations ?? path.join(root ?? '', 'prisma', 'migrations')),
    log: args.verbose ? (line) => console.error(line) : undefined,
  };

  switch (args.command) {
    case 'deploy': {
      const applied = await applyMigrations(databaseUrl(), opts);
      if (applied.length === 0) console.log('No pending migrations.');
      else console.log(`Applied ${applied.length} migration(s):\n${applied.map((m) => `  ${m}`).join('\n')}`);
      return 0;
    }
    case 'dev': {
      if (!args.name)
        throw new UsageError('dev needs --name <name> (npm run db:migrate:dev -- --name <name>)');
      const dir = await createMigration(databaseUrl(), args.name, opts);
      if (dir === null)
        console.log('The schema has no changes: no migration created. The database is up to date.');
      else console.log(`Created and applied ${relative(path.join(dir, 'migration.sql'))}`);
      return 0;
    }
    case 'check': {
      const { drift, sql } = await checkDrift(databaseUrl(), opts);
      if (!drift) {
        console.log(
          `No drift: the migrations in ${relative(opts.migrationsDir ?? '')} capture ${relative(opts.schemaPath ?? '')}.`,
        );
        return 0;
      }
      console.error(
        `Drift: ${relative(opts.schemaPath ?? '')} has changes that no migration captures. ` +
          'Create one with: npm run db:migrate:dev -- --name <change>\nSQL missing from the migrations:\n',
      );
      console.log(sql);
      return 1;
    }
    case 'resolve': {
      const [name, as] = args.rolledBack
        ? [args.rolledBack, 'rolled-back' as const]
        : [args.applied, 'applied' as const];
      if (!name || (args.rolledBack && args.applied)) {
        throw new UsageError('resolve needs one of --rolled-back <name> or --applied <name>');
      }
      await resolveMigration(databaseUrl(), name, as, opts);
      console.log(`Marked ${name} ${as === 'applied' ? 'applied' : 'rolled back'}.`);
      return 0;
    }
    case '':
      throw new UsageError('missing command');
    default:
      throw new UsageError(`unknown command ${JSON.stringify(args.command)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`migrate: ${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    console.error(`migrate: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
