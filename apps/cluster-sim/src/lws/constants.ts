// Label, annotation and environment names of the upstream LWS controller (v0.7).

export const LWS_GROUP = 'leaderworkerset.x-k8s.io';
export const LWS_VERSION = 'v1';
export const LWS_API_VERSION = `${LWS_GROUP}/${LWS_VERSION}`;
export const LWS_KIND = 'LeaderWorkerSet';

const P = 'leaderworkerset.sigs.k8s.io';
export const LABEL_NAME = `${P}/name`;
export const LABEL_GROUP_INDEX = `${P}/group-index`;
export const LABEL_WORKER_INDEX = `${P}/worker-index`;
export const LABEL_GROUP_KEY = `${P}/group-key`;
export const LABEL_REVISION = `${P}/template-revision-hash`;
export const LABEL_SUBGROUP_INDEX = `${P}/subgroup-index`;
export const LABEL_SUBGROUP_KEY = `${P}/subgroup-key`;

export const ANN_SIZE = `${P}/size`;
export const ANN_LEADER_NAME = `${P}/leader-name`;
export const ANN_EXCLUSIVE_TOPOLOGY = `${P}/exclusive-topology`;
export const ANN_SUBGROUP_EXCLUSIVE_TOPOLOGY = `${P}/subgroup-exclusive-topology`;
export const ANN_SUBGROUP_SIZE = `${P}/subgroup-size`;
export const ANN_SUBGROUP_POLICY_TYPE = `${P}/subgroup-policy-type`;
export const ANN_REPLICAS = `${P}/replicas`;
export const ANN_SUBDOMAIN_POLICY = `${P}/subdomainPolicy`;

export const ENV_LEADER_ADDRESS = 'LWS_LEADER_ADDRESS';
export const ENV_GROUP_SIZE = 'LWS_GROUP_SIZE';
export const ENV_WORKER_INDEX = 'LWS_WORKER_INDEX';

/** Field manager the controller applies its StatefulSets with. */
export const LWS_FIELD_MANAGER = 'lws';
