// CLI: npm run node-agent -- --kubeconfig <file> [--nodes 8 --gpus-per-node 8 --racks 2 … --admin-port 0]
// (flags in options.ts). Prints the admin URL on stdout once the nodes are registered; stops on
// SIGINT / SIGTERM, closing the engines (Node objects stay unless --delete-nodes-on-exit).

import { startNodeAgent } from './agent';
import { parseAgentArgs, USAGE } from './options';

const log = (m: string): void => {
  process.stderr.write(`[node-agent] ${m}\n`);
};

async function main(): Promise<void> {
  const parsed = parseAgentArgs(process.argv.slice(2), { KUBECONFIG: process.env.KUBECONFIG });
  if (parsed.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`[node-agent] ${parsed.message}\n${USAGE}\n`);
    process.exit(2);
  }
  const agent = await startNodeAgent({ ...parsed.options, log });
  log(`running ${agent.nodes.length} nodes (${agent.nodes[0]} … ${agent.nodes[agent.nodes.length - 1]})`);
  process.stdout.write(`${agent.adminUrl}\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    agent.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`stopping failed: ${(err as Error)?.message ?? String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  log((err as Error)?.message ?? String(err));
  process.exit(1);
});
