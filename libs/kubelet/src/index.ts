// The kubelet shared by the cluster simulator and the node agent: pod lifecycle, pod IPs, simulated
// engines (vLLM, SGLang), faults and the /sim admin API, against any cluster through a `KubeletHost`.

export * from './types';
export { Kubelet, refOf, type EngineInfo, type KubeletHost, type KubeletOptions } from './kubelet';
export { expandVars, engineOf, launchEngine, type EngineDefaults } from './engines';
export { IpPool, randomStart, ipToString } from './ip-pool';
export {
  mergeConditions,
  nowRfc3339,
  podTerminal,
  pendingStatus,
  runningStatus,
  readinessStatus,
  failedStatus,
  stoppedStatus,
  restartedStatus,
} from './pod-status';
export {
  DEFAULT_NODE_SHAPE,
  UNREACHABLE_TAINT,
  ZONE_LABEL,
  heartbeatConditions,
  nodeDownUpdate,
  nodeIp,
  nodeName,
  nodeObject,
  rackOf,
  type NodeManifest,
  type NodeShape,
  type NodeUpdate,
} from './nodes';
export { kubeletOptionsOf, nodeShapeOf, type SimNodeOptions } from './options';
export {
  adminHandler,
  handleAdmin,
  sendAdminJson,
  statusBody,
  NO_FAULTS,
  type AdminDeps,
  type AdminResponse,
} from './admin-api';
