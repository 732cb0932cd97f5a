import { setMaxListeners } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { nonNegativeInt, positiveInt } from './args';
import { ApiClient, ApiError, ModelDetail, ModelView, NetworkError, VersionView } from './api-client';
import {
  configPath,
  GlobalFlags,
  normalizeUrl,
  readConfig,
  resolveSettings,
  Settings,
  uploadsDir,
  writeConfig,
} from './config';
import { formatBytes, formatDuration, formatRate, table } from './format';
import { CliError, Output } from './output';
import { registerServiceCommands } from './services';
import { DEFAULT_PARAMS, UploadResult, UploadRun } from './upload';
import { stateFilePath, UploadStateStore } from './upload-state';

type Env = Record<string, string | undefined>;

export interface CliContext {
  env: Env;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

function cliVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'troupe' && pkg.version) return pkg.version;
      } catch {
        // keep looking
      }
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('troupe')
    .description('Troupe command line: model registry, weight uploads and inference services')
    .version(cliVersion(), '-V, --cli-version', 'print the CLI version')
    .option('--url <url>', 'server URL (default: $TROUPE_URL, else the stored login)')
    .option('--key <key>', 'API key (default: $TROUPE_KEY, else the stored login)')
    .option(
      '--project <id>',
      'project id; admin keys need one for model and service commands (default: $TROUPE_PROJECT, else the stored login)',
    )
    .option('--json', 'machine-readable output on stdout')
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    });

  const output = (cmd: Command) =>
    new Output(Boolean((cmd.optsWithGlobals() as GlobalFlags).json), ctx.stdout, ctx.stderr);
  const settings = (cmd: Command): Settings =>
    resolveSettings(cmd.optsWithGlobals() as GlobalFlags, ctx.env, readConfig(configPath(ctx.env)));
  const withClient = async <T>(
    cmd: Command,
    fn: (client: ApiClient, s: Settings) => Promise<T>,
    connections?: number,
  ) => {
    const s = settings(cmd);
    const client = new ApiClient({ ...s, connections });
    try {
      return await fn(client, s);
    } finally {
      await client.close().catch(() => undefined);
    }
  };

  program
    .command('login')
    .description(
      'check an API key against the server and store it with the URL (--url, --key, optional --project)',
    )
    .addHelpText(
      'after',
      '\nThe config file is $TROUPE_CONFIG, else ~/.config/troupe/config.json (mode 0600).\n' +
        'TROUPE_URL and TROUPE_KEY in the environment override what it holds.',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals() as GlobalFlags;
      const out = output(cmd);
      const rawUrl = flags.url ?? ctx.env.TROUPE_URL;
      const key = flags.key ?? ctx.env.TROUPE_KEY;
      if (!rawUrl || !key) throw new CliError('login needs --url <url> and --key <key>');
      const url = normalizeUrl(rawUrl);
      const client = new ApiClient({ url, key });
      let inferenceOnly = false;
      try {
        try {
          await client.listProjects();
        } catch (err) {
          if (err instanceof ApiError && err.status === 403) inferenceOnly = true;
          else if (err instanceof ApiError && err.status === 401) {
            throw new CliError(`the server refused the key: ${err.describe()}`);
          } else throw err;
        }
        if (flags.project && !inferenceOnly) await client.getProject(flags.project);
      } finally {
        await client.close().catch(() => undefined);
      }
      const file = configPath(ctx.env);
      writeConfig(file, { url, key, ...(flags.project ? { projectId: flags.project } : {}) });
      out.result({ url, config: file, projectId: flags.project ?? null, inferenceOnly }, () =>
        [
          `logged in to ${url}${flags.project ? ` (project ${flags.project})` : ''}; saved to ${file}`,
          ...(inferenceOnly
            ? [
                'note: this key is inference-only: it can call the OpenAI-compatible API (/v1) but cannot manage',
                'or upload models; use a member or admin key for troupe models commands',
              ]
            : []),
        ].join('\n'),
      );
    });

  const models = program.command('models').description('model registry: create, list, show, upload');

  models
    .command('create <name>')
    .description('create a model (in your project; admin keys pass --project)')
    .option('--description <text>', 'free text')
    .action(async (name: string, opts: { description?: string }, cmd: Command) => {
      const out = output(cmd);
      const model = await withClient(cmd, (c) => c.createModel({ name, description: opts.description }));
      out.result(model, () => `created model ${model.name} (${model.id}) in project ${model.projectId}`);
    });

  models
    .command('list')
    .description('list models')
    .action(async (_opts: unknown, cmd: Command) => {
      const out = output(cmd);
      const list = await withClient(cmd, (c) => c.listModels());
      out.result({ data: list }, () => (list.length === 0 ? 'no models' : modelTable(list)));
    });

  models
    .command('show <name>')
    .description('a model with its versions: state, files, metadata')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const out = output(cmd);
      const { model, versions } = await withClient(cmd, async (c) => {
        const m = await c.getModel(name);
        const details: VersionView[] = [];
        for (const v of m.versions ?? []) details.push(await c.getVersion(name, v.version));
        return { model: m, versions: details };
      });
      out.result({ ...model, versions }, () => showModel(model, versions));
    });

  models
    .command('upload <path>')
    .description('upload a checkpoint directory (or one file) into a model version, then verify it')
    .requiredOption('--model <name>', 'model name')
    .requiredOption('--version <version>', 'version (created when missing)')
    .option(
      '--parallel <n>',
      'requests carrying bytes at once (parts of large files, small files)',
      positiveInt,
      4,
    )
    .option('--no-wait', 'return after finalizing instead of waiting for READY or FAILED')
    .option('--no-part-checksums', 'do not send a sha256 with each part (saves reading each part twice)')
    .addOption(
      new Option('--small-file-limit <bytes>', 'files below this size go in one request')
        .argParser(positiveInt)
        .hideHelp(),
    )
    .addOption(new Option('--retries <n>', 'retries per request').argParser(nonNegativeInt).hideHelp())
    .addOption(new Option('--retry-delay-ms <ms>', 'first retry delay').argParser(nonNegativeInt).hideHelp())
    .addOption(
      new Option('--poll-interval-ms <ms>', 'version polling interval').argParser(positiveInt).hideHelp(),
    )
    .addHelpText(
      'after',
      '\nFiles under 64 MiB go in one streaming request; larger ones through a resumable session, several\n' +
        'parts at once. Files the version already has (same path and size) are skipped; hidden files are\n' +
        'left out. After Ctrl-C or a dropped connection, run the same command again: it resumes.',
    )
    .action(async (source: string, opts: UploadOptions, cmd: Command) => {
      const out = output(cmd);
      const s = settings(cmd);
      await upload(ctx, out, s, source, opts);
    });

  const versions = models.command('versions').description('model versions');
  versions
    .command('create <model> <version>')
    .description('create an empty version (state UPLOADING)')
    .action(async (model: string, version: string, _opts: unknown, cmd: Command) => {
      const out = output(cmd);
      const v = await withClient(cmd, (c) => c.createVersion(model, version));
      out.result(v, () => `created version ${model}/${v.version} (${v.state})`);
    });

  registerServiceCommands(program, { output, withClient });

  return program;
}

interface UploadOptions {
  model: string;
  version: string;
  parallel: number;
  wait: boolean;
  partChecksums: boolean;
  smallFileLimit?: number;
  retries?: number;
  retryDelayMs?: number;
  pollIntervalMs?: number;
}

async function upload(
  ctx: CliContext,
  out: Output,
  s: Settings,
  source: string,
  opts: UploadOptions,
): Promise<void> {
  const client = new ApiClient({ ...s, connections: opts.parallel + 2 });
  const state = new UploadStateStore(
    stateFilePath(uploadsDir(configPath(ctx.env)), opts.model, opts.version),
    {
      url: s.url,
      projectId: s.projectId,
      model: opts.model,
      version: opts.version,
    },
  );
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const run = new UploadRun(
    {
      ...DEFAULT_PARAMS,
      source,
      model: opts.model,
      version: opts.version,
      parallel: opts.parallel,
      wait: opts.wait,
      partChecksums: opts.partChecksums,
      smallFileLimit: opts.smallFileLimit ?? DEFAULT_PARAMS.smallFileLimit,
      retries: opts.retries ?? DEFAULT_PARAMS.retries,
      retryBaseDelayMs: opts.retryDelayMs ?? DEFAULT_PARAMS.retryBaseDelayMs,
      pollIntervalMs: opts.pollIntervalMs ?? DEFAULT_PARAMS.pollIntervalMs,
    },
    { client, state, progressOut: ctx.stderr, tty: Boolean(ctx.stderr.isTTY), signal: controller.signal },
  );
  // Ctrl-C: finish nothing. Every session opened is already in the state file; in-flight parts are
  // dropped (the server keeps the parts it completed), and the next run resumes from there.
  const onSigint = () => {
    run.interrupt();
    controller.abort();
    ctx.stderr.write(
      run.phase === 'verifying'
        ? `\ninterrupted; the server goes on verifying: see troupe models show ${opts.model}\n`
        : `\ninterrupted; run the same command again to resume\n`,
    );
    process.exit(130);
  };
  process.on('SIGINT', onSigint);
  let result: UploadResult;
  try {
    result = await run.run();
  } finally {
    process.off('SIGINT', onSigint);
    await client.close().catch(() => undefined);
  }
  const { version: v, stats } = result;
  out.result({ model: opts.model, ...v, stats }, () => {
    const rate = stats.seconds > 0 ? stats.bytesSent / stats.seconds : 0;
    const lines = [
      `sent ${formatBytes(stats.bytesSent)} in ${formatDuration(stats.seconds)} (${formatRate(rate)}): ` +
        `${stats.filesUploaded} files uploaded, ${stats.filesSkipped} already there` +
        (stats.partsResumed > 0 ? `, ${stats.partsResumed} parts resumed` : ''),
      `${opts.model}/${v.version}: ${v.state}${v.state === 'FAILED' ? `: ${v.failureReason ?? 'no reason given'}` : ''}`,
    ];
    if (v.state === 'READY' && v.metadata) lines.push(...metadataLines(v.metadata, '  '));
    return lines.join('\n');
  });
  if (v.state === 'FAILED') {
    throw new CliError(`verification failed: ${v.failureReason ?? 'no reason given'}`);
  }
}

function modelTable(list: ModelView[]): string {
  return table(
    ['NAME', 'ID', 'CREATED', 'DESCRIPTION'],
    list.map((m) => [m.name, m.id, m.createdAt, m.description ?? '']),
  );
}

function metadataLines(metadata: Record<string, unknown>, indent: string): string[] {
  return Object.entries(metadata)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${indent}${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
}

function showModel(model: ModelDetail, versions: VersionView[]): string {
  const lines = [
    `model ${model.name} (${model.id})`,
    `  project: ${model.projectId}`,
    `  created: ${model.createdAt}`,
  ];
  if (model.description) lines.push(`  description: ${model.description}`);
  if (versions.length === 0) lines.push('  no versions');
  for (const v of versions) {
    const files = v.files ?? [];
    const total = v.totalBytes ?? files.reduce((s, f) => s + f.size, 0);
    lines.push('', `version ${v.version}: ${v.state}, ${files.length} files, ${formatBytes(total)}`);
    if (v.state === 'FAILED') lines.push(`  failure: ${v.failureReason ?? 'no reason given'}`);
    if (v.metadata && Object.keys(v.metadata).length > 0) {
      lines.push('  metadata:', ...metadataLines(v.metadata, '    '));
    }
    if (files.length > 0) {
      lines.push('  files:');
      const width = Math.max(...files.map((f) => f.path.length));
      for (const f of files) {
        lines.push(
          `    ${f.path.padEnd(width)}  ${formatBytes(f.size).padStart(10)}  sha256 ${f.sha256 ?? '-'}`,
        );
      }
    }
  }
  return lines.join('\n');
}

/** Runs the CLI; resolves with the exit code. Errors are printed as `error: …`. */
export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    ctx.stderr.write(`${errorMessage(err, ctx.env)}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}

export function errorMessage(err: unknown, env: Env = {}): string {
  if (err instanceof ApiError) {
    const lines = [`error: ${err.describe()}`];
    for (const i of err.issues ?? []) lines.push(`  - ${i.field ? `${i.field}: ` : ''}${i.message}`);
    if (err.status === 401) lines.push('hint: check the key, or log in again with troupe login');
    return lines.join('\n');
  }
  if (err instanceof NetworkError || err instanceof CliError) return `error: ${err.message}`;
  if (err instanceof Error) return `error: ${err.message}${env.TROUPE_DEBUG ? `\n${err.stack}` : ''}`;
  return `error: ${String(err)}`;
}
