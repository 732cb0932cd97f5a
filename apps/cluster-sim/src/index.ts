// Public API of the cluster simulator (used by tests and the dev launcher).

export { startClusterSim, type ClusterSim, type ClusterSimOptions } from './sim';
export { kubeconfigYaml, CONTEXT_NAME } from './kubeconfig';
export { loadLwsCrd } from './lws/crd';
