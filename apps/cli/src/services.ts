import { setTimeout as sleep } from 'node:timers/promises';
import { Command, Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import { ApiClient, CreateServiceInput, ServiceEvent, ServicePhase, ServiceView } from './api-client';
import { collect, keyValue, nonNegativeInt, positiveInt } from './args';
import { formatAge, table } from './format';
import { CliError, Output } from './output';
import { withRetry } from './retry';
import { registerScalingCommands } from './service-scaling';

/** `troupe services …`: inference services (LeaderWorkerSets) over `/api/v1/services`. */

export interface ServiceCommandDeps {
  output: (cmd: Command) => Output;
  withClient: <T>(cmd: Command, fn: (client: ApiClient) => Promise<T>) => Promise<T>;
}

export const ENGINE_CHOICES = ['vllm', 'sglang'] as const;

export interface CreateServiceOptions {
  model: string;
  version: string;
  engine?: (typeof ENGINE_CHOICES)[number];
  image: string;
  tp?: number;
  pp?: number;
  gpusPerNode?: number;
  gpuType?: string;
  replicas?: number;
  min?: number;
  max?: number;
  servedName?: string;
  namespace?: string;
  maxModelLen?: number;
  dtype?: string;
  maxNumSeqs?: number;
  arg?: string[];
  env?: Record<string, string>;
  exclusiveTopology?: string;
  dryRun?: boolean;
  wait?: boolean;
  pollIntervalMs?: number;
}

/** The request body built from the flags; only what was given is sent (the server fills defaults). */
export function createServiceBody(name: string, o: CreateServiceOptions): CreateServiceInput {
  const body: CreateServiceInput = {
    name,
    model: o.model,
    version: o.version,
    engine: { ...(o.engine !== undefined ? { kind: o.engine } : {}), image: o.image },
  };
  if (o.servedName !== undefined) body.servedModelName = o.servedName;
  if (o.namespace !== undefined) body.namespace = o.namespace;
  // The API takes both degrees or neither; the one not given is 1.
  if (o.tp !== undefined || o.pp !== undefined) body.parallelism = { tensor: o.tp ?? 1, pipeline: o.pp ?? 1 };
  if (o.gpusPerNode !== undefined) body.gpusPerNode = o.gpusPerNode;
  if (o.gpuType !== undefined) body.gpu = { type: o.gpuType };
  if (o.replicas !== undefined || o.min !== undefined || o.max !== undefined) {
    body.replicas = {};
    if (o.replicas !== undefined) body.replicas.initial = o.replicas;
    if (o.min !== undefined) body.replicas.min = o.min;
    if (o.max !== undefined) body.replicas.max = o.max;
  }
  if (o.arg?.length) body.engine.extraArgs = o.arg;
  if (o.env && Object.keys(o.env).length > 0) body.engine.env = o.env;
  if (o.maxModelLen !== undefined) body.engine.maxModelLen = o.maxModelLen;
  if (o.dtype !== undefined) body.engine.dtype = o.dtype;
  if (o.maxNumSeqs !== undefined) body.engine.maxNumSeqs = o.maxNumSeqs;
  if (o.exclusiveTopology !== undefined) body.placement = { exclusiveTopology: o.exclusiveTopology };
  return body;
}

export function registerServiceCommands(program: Command, deps: ServiceCommandDeps): void {
  const { output, withClient } = deps;
  const services = program
    .command('services')
    .description('inference services: create, list, show, delete, manifest, events, scale, autoscaling');

  services
    .command('create <name>')
    .description(
      'deploy a READY model version as a service (multi-node LeaderWorkerSet running vLLM or SGLang)',
    )
    .requiredOption('--model <name>', 'model name')
    .requiredOption('--version <version>', 'model version (must be READY)')
    .addOption(
      new Option(
        '--engine <kind>',
        'inference engine (default vllm: Ray per group; sglang: its own multi-node launch)',
      ).choices(ENGINE_CHOICES),
    )
    .requiredOption('--image <image>', 'engine container image (vLLM or SGLang)')
    .option('--tp <n>', 'tensor parallel degree', positiveInt)
    .option('--pp <n>', 'pipeline parallel degree (pods per group)', positiveInt)
    .option('--gpus-per-node <n>', 'GPUs per pod', positiveInt)
    .option('--gpu-type <type>', 'GPU product to schedule on, e.g. H100-80GB')
    .option('--replicas <n>', 'initial number of groups', nonNegativeInt)
    .option('--min <n>', 'minimum number of groups', nonNegativeInt)
    .option('--max <n>', 'maximum number of groups', positiveInt)
    .option('--served-name <name>', 'model name clients use in the OpenAI API (default: the service name)')
    .option('--namespace <ns>', 'Kubernetes namespace')
    .option(
      '--max-model-len <n>',
      'context length (vLLM --max-model-len, SGLang --context-length)',
      positiveInt,
    )
    .option('--dtype <dtype>', 'engine --dtype')
    .option(
      '--max-num-seqs <n>',
      'sequences at once (vLLM --max-num-seqs, SGLang --max-running-requests)',
      positiveInt,
    )
    .option('--arg <arg>', 'extra engine argument, repeatable (write --arg=--flag=value)', collect)
    .option('--env <KEY=VALUE>', 'environment variable for the engine, repeatable', keyValue)
    .option('--exclusive-topology <key>', 'one group per topology domain, e.g. rack')
    .option('--dry-run', 'validate and print the rendered manifest; create nothing')
    .option('--wait', 'wait until the service is READY (exit 0) or FAILED (exit 1)')
    .addOption(
      new Option('--poll-interval-ms <ms>', 'status polling interval').argParser(positiveInt).hideHelp(),
    )
    .addHelpText(
      'after',
      '\nWithout --tp/--pp the server picks a layout from the model. Example:\n' +
        '  troupe services create llama-405b --model llama-3-405b --version v1 --image vllm/vllm-openai:v0.9.0 \\\n' +
        '    --tp 8 --pp 2 --gpu-type H100-80GB --arg=--enable-prefix-caching --env VLLM_LOGGING_LEVEL=DEBUG --wait\n' +
        '  troupe services create llama-405b-sg --model llama-3-405b --version v1 --engine sglang \\\n' +
        '    --image lmsysorg/sglang:v0.5.3 --tp 8 --pp 2 --served-name llama-sg --wait',
    )
    .action(async (name: string, opts: CreateServiceOptions, cmd: Command) => {
      const out = output(cmd);
      const body = createServiceBody(name, opts);
      if (opts.dryRun) {
        const r = await withClient(cmd, (c) => c.dryRunService(body));
        out.result(r, () => toYaml(r.manifest).trimEnd());
        return;
      }
      await withClient(cmd, async (c) => {
        const created = await c.createService(body);
        if (!opts.wait) {
          out.result(
            created,
            () =>
              `created service ${created.name} (${created.status.phase}); see troupe services show ${created.name}`,
          );
          return;
        }
        out.info(`created service ${created.name}; waiting for READY`);
        const final = await waitForService(c, out, name, opts.pollIntervalMs ?? 1000);
        out.result(final, () => showService(final));
        if (final.status.phase !== 'READY') {
          throw new CliError(
            `service ${name} is ${final.status.phase}: ${final.status.reason ?? final.status.lastError ?? 'no reason given'}`,
          );
        }
      });
    });

  services
    .command('list')
    .description('list services: phase and ready groups')
    .action(async (_opts: unknown, cmd: Command) => {
      const out = output(cmd);
      const list = await withClient(cmd, (c) => c.listServices());
      out.result({ data: list }, () => (list.length === 0 ? 'no services' : serviceTable(list)));
    });

  services
    .command('show <name>')
    .description('a service: model, layout, phase, groups, leader endpoints, last error')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const out = output(cmd);
      const s = await withClient(cmd, (c) => c.getService(name));
      out.result(s, () => showService(s));
    });

  services
    .command('delete <name>')
    .description('delete a service: its LeaderWorkerSet and pods are removed')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const out = output(cmd);
      const s = await withClient(cmd, (c) => c.deleteService(name));
      out.result(s ?? { name }, () => `deleting service ${name}${s?.status ? ` (${s.status.phase})` : ''}`);
    });

  services
    .command('manifest <name>')
    .description('the rendered LeaderWorkerSet (YAML; JSON with --json)')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const out = output(cmd);
      if (out.json) {
        const m = await withClient(cmd, (c) => c.serviceManifest(name));
        out.result(m, () => '');
        return;
      }
      const yaml = await withClient(cmd, (c) => c.serviceManifestYaml(name));
      out.result(yaml, () => yaml.trimEnd());
    });

  services
    .command('events <name>')
    .description('deploy history: what Troupe did and what the cluster reported (oldest first)')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const out = output(cmd);
      const r = await withClient(cmd, (c) => c.serviceEvents(name));
      out.result(r, () => (r.data.length === 0 ? 'no events' : eventTable(r.data)));
    });

  registerScalingCommands(services, deps);
}

const TERMINAL: ServicePhase[] = ['READY', 'FAILED', 'DELETING', 'DELETED'];

/** Polls the service until READY or a phase it will not leave by itself; phase changes on stderr. */
export async function waitForService(
  client: ApiClient,
  out: Output,
  name: string,
  intervalMs: number,
): Promise<ServiceView> {
  let last: string | undefined;
  for (;;) {
    const s = await withRetry(() => client.getService(name), {
      retries: 5,
      baseDelayMs: 500,
      onRetry: (err, attempt, delay) =>
        out.info(
          `  status request failed (${err instanceof Error ? err.message : String(err)}); retry ${attempt} in ${delay} ms`,
        ),
    });
    const line = `${s.status.phase} ${readyOf(s)}${s.status.reason ? `: ${s.status.reason}` : ''}`;
    if (line !== last) {
      out.info(`  ${name}: ${line}`);
      last = line;
    }
    if (TERMINAL.includes(s.status.phase)) return s;
    await sleep(intervalMs);
  }
}

function readyOf(s: ServiceView): string {
  const g = s.status.observed?.groups;
  return g ? `${g.ready}/${g.desired}` : `0/${s.spec.replicas?.initial ?? '?'}`;
}

export function serviceTable(list: ServiceView[], now = Date.now()): string {
  return table(
    ['NAME', 'MODEL', 'PHASE', 'READY', 'AGE'],
    list.map((s) => [
      s.name,
      `${s.model.name}/${s.model.version}`,
      s.status.phase,
      readyOf(s),
      formatAge(s.createdAt, now),
    ]),
  );
}

export function showService(s: ServiceView): string {
  const st = s.status;
  const spec = s.spec;
  const lines = [
    `service ${s.name} (namespace ${s.namespace})`,
    `  model: ${s.model.name}/${s.model.version}, served as "${s.servedModelName}"`,
    `  phase: ${st.phase}${st.reason ? `: ${st.reason}` : ''}`,
    `  generation: ${s.generation} (applied ${st.appliedGeneration ?? '-'})`,
  ];
  const g = st.observed?.groups;
  lines.push(
    g
      ? `  groups: ${g.ready}/${g.desired} ready, ${g.current} current, ${g.updated} updated`
      : '  groups: not observed yet',
  );
  if (spec.parallelism) {
    const gpu = spec.gpu?.type ? ` ${spec.gpu.type}` : '';
    lines.push(
      `  layout: TP ${spec.parallelism.tensor} x PP ${spec.parallelism.pipeline}` +
        (spec.gpusPerNode ? `, ${spec.gpusPerNode}${gpu} GPUs per pod` : '') +
        (spec.layoutExplanation ? ` (${spec.layoutExplanation})` : ''),
    );
  }
  const r = spec.replicas;
  if (r) lines.push(`  replicas: initial ${r.initial ?? '-'}, min ${r.min ?? '-'}, max ${r.max ?? '-'}`);
  if (spec.engine) lines.push(`  engine: ${spec.engine.kind ?? 'vllm'}`);
  if (spec.engine?.image) lines.push(`  image: ${spec.engine.image}`);
  if (spec.engine?.extraArgs?.length) lines.push(`  extra args: ${spec.engine.extraArgs.join(' ')}`);
  if (spec.placement?.exclusiveTopology)
    lines.push(`  exclusive topology: ${spec.placement.exclusiveTopology}`);
  if (s.createdAt) lines.push(`  created: ${s.createdAt}`);
  if (st.observed?.unschedulable) lines.push(`  unschedulable: ${st.observed.unschedulable}`);
  if (s.scaling) {
    const sc = s.scaling;
    const by =
      sc.owner === 'admin'
        ? `admin (pinned at ${sc.pinnedReplicas})`
        : sc.owner === 'autoscaler' && sc.policy
          ? `autoscaler (${sc.policy.minReplicas}..${sc.policy.maxReplicas}, ${sc.policy.metric} target ${sc.policy.target})`
          : sc.owner;
    lines.push(`  scaling: ${by}`);
    if (sc.lastDecision)
      lines.push(`  last autoscaler decision: ${sc.lastDecision.reason}: ${sc.lastDecision.message}`);
  }
  lines.push(`  last error: ${st.lastError ?? '-'}`);
  const eps = st.observed?.leaderEndpoints ?? [];
  if (eps.length === 0) lines.push('  endpoints: none');
  else {
    lines.push('  endpoints:');
    const t = table(
      ['GROUP', 'POD', 'ADDRESS'],
      eps.map((e) => [String(e.group), e.pod, `${e.ip}:${e.port}`]),
    );
    lines.push(...t.split('\n').map((l) => `    ${l}`));
  }
  return lines.join('\n');
}

/** The server lists newest first; people read history oldest first. */
export function eventTable(events: ServiceEvent[]): string {
  return table(
    ['TIME', 'TYPE', 'REASON', 'MESSAGE'],
    [...events].reverse().map((e) => [e.createdAt, e.type, e.reason, e.message]),
  );
}
