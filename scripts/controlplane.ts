/**
 * The upstream control plane, built from pinned Go modules (deploy/controlplane/).
 *
 *   npm run controlplane -- build        build (or find in the cache) and print the binaries
 *   npm run controlplane -- up [--dir D] start etcd, kube-apiserver, kube-controller-manager,
 *                                         kube-scheduler and the LWS controller; print the kubeconfig
 *                                         path; Ctrl-C stops them (the node agent is started by
 *                                         `TROUPE_CLUSTER=kube npm run dev`, or `npm run node-agent`)
 */
import path from 'node:path';
import { ensureControlPlane, startControlPlane } from '../libs/testing/src';

const log = (m: string) => console.error(`[controlplane] ${m}`);

async function main(): Promise<void> {
  const [cmd = 'build', ...rest] = process.argv.slice(2);
  if (cmd === 'build') {
    const b = await ensureControlPlane({ log });
    console.log(
      JSON.stringify(
        {
          dir: b.dir,
          built: b.built,
          buildSeconds: b.buildSeconds,
          versions: b.versions,
          binaries: b.bin,
          lwsCrd: b.lwsCrdPath,
        },
        null,
        2,
      ),
    );
    return;
  }
  if (cmd === 'up') {
    const i = rest.indexOf('--dir');
    const dir = i >= 0 ? rest[i + 1] : path.resolve(__dirname, '..', '.troupe', 'kube');
    const t0 = Date.now();
    const build = await ensureControlPlane({ log });
    log(`binaries ${build.built ? `built in ${build.buildSeconds} s` : 'found in the cache'} (${build.dir})`);
    const cp = await startControlPlane({ dir, build, log });
    log(`cached start: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    console.log(cp.kubeconfigPath);
    const stop = async () => {
      await cp.stop();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop());
    process.on('SIGTERM', () => void stop());
    return;
  }
  console.error('usage: npm run controlplane -- build | up [--dir <state dir>]');
  process.exit(2);
}

main().catch((e: unknown) => {
  console.error(`[controlplane] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
