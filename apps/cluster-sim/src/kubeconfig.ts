// The kubeconfig the simulator writes: one cluster/context/user named troupe-sim, no credentials.
// `insecure-skip-tls-verify: true` is required by @kubernetes/client-node 1.x for an http:// server
// ("HTTP protocol is not allowed when skipTLSVerify is not set or false"); kubectl accepts it too.

import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';

export const CONTEXT_NAME = 'troupe-sim';

export function kubeconfigYaml(server: string, namespace = 'default'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CONTEXT_NAME, cluster: { server, 'insecure-skip-tls-verify': true } }],
    contexts: [{ name: CONTEXT_NAME, context: { cluster: CONTEXT_NAME, user: CONTEXT_NAME, namespace } }],
    'current-context': CONTEXT_NAME,
    users: [{ name: CONTEXT_NAME, user: {} }],
    preferences: {},
  });
}

export function writeKubeconfig(file: string, yamlText: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, yamlText, { mode: 0o600 });
}
