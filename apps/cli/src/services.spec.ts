import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  createServiceBody,
  registerServiceCommands,
  showService,
  type CreateServiceOptions,
} from './services';
import type { ApiClient, ServiceView } from './api-client';

const base: CreateServiceOptions = { model: 'llama', version: 'v1', image: 'img:1' };

describe('createServiceBody', () => {
  it('sends no engine kind unless asked (the server defaults to vllm)', () => {
    expect(createServiceBody('a', base).engine).toEqual({ image: 'img:1' });
  });

  it('--engine sglang with its settings', () => {
    const body = createServiceBody('a', {
      ...base,
      engine: 'sglang',
      image: 'lmsysorg/sglang:v0.5.3',
      tp: 8,
      pp: 2,
      maxModelLen: 8192,
      maxNumSeqs: 32,
      arg: ['--enable-torch-compile'],
    });
    expect(body).toMatchObject({
      parallelism: { tensor: 8, pipeline: 2 },
      engine: {
        kind: 'sglang',
        image: 'lmsysorg/sglang:v0.5.3',
        maxModelLen: 8192,
        maxNumSeqs: 32,
        extraArgs: ['--enable-torch-compile'],
      },
    });
  });
});

describe('troupe services create --engine', () => {
  /** Runs the command line against a client that records the body it would send. */
  async function run(argv: string[]): Promise<{ body?: unknown; error?: string }> {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
    let body: unknown;
    const client = {
      dryRunService: async (b: unknown) => {
        body = b;
        return { dryRun: true, spec: {}, manifest: {} };
      },
    } as unknown as ApiClient;
    registerServiceCommands(program, {
      output: () => ({ result: () => undefined, info: () => undefined }) as never,
      withClient: (_cmd, fn) => fn(client),
    });
    try {
      await program.parseAsync(['node', 'troupe', 'services', 'create', 'svc', ...argv, '--dry-run']);
      return { body };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }
  const required = ['--model', 'llama', '--version', 'v1', '--image', 'img:1'];

  it('takes sglang', async () => {
    const r = await run([...required, '--engine', 'sglang']);
    expect(r.body).toMatchObject({ engine: { kind: 'sglang', image: 'img:1' } });
  });

  it('refuses an engine it does not know, naming the choices', async () => {
    const r = await run([...required, '--engine', 'tgi']);
    expect(r.error).toMatch(/--engine <kind>.*Allowed choices are vllm, sglang/);
  });
});

describe('showService', () => {
  it('names the engine, vllm for specs stored before the choice', () => {
    const view = (engine: Record<string, unknown>) =>
      ({
        name: 's',
        namespace: 'n',
        servedModelName: 's',
        model: { name: 'm', version: 'v1' },
        generation: 1,
        spec: { engine },
        status: { phase: 'READY', reason: null, appliedGeneration: 1, observed: null },
      }) as unknown as ServiceView;
    expect(showService(view({ kind: 'sglang', image: 'i' }))).toContain('  engine: sglang');
    expect(showService(view({ image: 'i' }))).toContain('  engine: vllm');
  });
});
