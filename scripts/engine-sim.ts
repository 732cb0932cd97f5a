// Runs one simulated vLLM or SGLang OpenAI server:
//   tsx scripts/engine-sim.ts --port 8000 --model m --max-num-seqs 8 --tpot-ms 10 --ttft-ms 20
//   tsx scripts/engine-sim.ts --engine sglang --port 30000 --model m
import { parseArgs } from 'node:util';
import { startEngine } from '@troupe/engine-sim';

const USAGE = `Usage: tsx scripts/engine-sim.ts [options]
  --engine vllm|sglang        whose server: routes, wire format, metric names (default vllm)
  --host ADDR                 address to listen on (default 127.0.0.1)
  --port N                    port (default 8000; 0 picks a free one)
  --model NAME                model path or id (default sim-model)
  --served-model-name NAME    name the engine answers to (repeatable; default: the model)
  --max-num-seqs N            sequences decoding at once (default 256)
  --max-model-len N           context length (default 4096)
  --tpot-ms MS                ms per output token (default 10)
  --ttft-ms MS                fixed time to first token (default 20)
  --prefill-ms-per-token MS   prefill cost per prompt token (default 0.05)
  --kv-cache-tokens N         KV cache capacity in tokens (default 65536)
  --eos-probability P         chance per token of finishing with "stop" (default 0.005)
  --default-max-tokens N      max_tokens when the request sets none (default 16)`;

function num(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x)) {
    console.error(`${flag}: not a number: ${v}\n${USAGE}`);
    process.exit(2);
  }
  return x;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      engine: { type: 'string', default: 'vllm' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8000' },
      model: { type: 'string', default: 'sim-model' },
      'served-model-name': { type: 'string', multiple: true },
      'max-num-seqs': { type: 'string' },
      'max-model-len': { type: 'string' },
      'tpot-ms': { type: 'string' },
      'ttft-ms': { type: 'string' },
      'prefill-ms-per-token': { type: 'string' },
      'kv-cache-tokens': { type: 'string' },
      'eos-probability': { type: 'string' },
      'default-max-tokens': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.engine !== 'vllm' && values.engine !== 'sglang') {
    console.error(`--engine: vllm or sglang, not ${values.engine}\n${USAGE}`);
    process.exit(2);
  }
  const engine = await startEngine({
    kind: values.engine,
    host: values.host,
    port: num(values.port, '--port') ?? 8000,
    model: values.model,
    servedModelNames: values['served-model-name'],
    maxNumSeqs: num(values['max-num-seqs'], '--max-num-seqs'),
    maxModelLen: num(values['max-model-len'], '--max-model-len'),
    tpotMs: num(values['tpot-ms'], '--tpot-ms'),
    ttftMs: num(values['ttft-ms'], '--ttft-ms'),
    prefillMsPerToken: num(values['prefill-ms-per-token'], '--prefill-ms-per-token'),
    kvCacheTokens: num(values['kv-cache-tokens'], '--kv-cache-tokens'),
    eosProbability: num(values['eos-probability'], '--eos-probability'),
    defaultMaxTokens: num(values['default-max-tokens'], '--default-max-tokens'),
  });
  console.log(`engine-sim (${engine.kind}): serving ${engine.servedModelNames.join(', ')} on ${engine.url}`);
  const stop = (signal: string): void => {
    console.log(`engine-sim: ${signal}, closing`);
    void engine.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
