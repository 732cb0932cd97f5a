// Minimal typed shapes of the Kubernetes objects the renderer emits: only the fields Troupe sets or
// reads, spelled as the API spells them (so that a rendered object is applied as is).

/** A Kubernetes quantity ("8", "16Gi", 500) or an int-or-string ("25%", 1). */
export type IntOrString = number | string;
export type Quantity = number | string;

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
}

export interface SecretKeySelector {
  name: string;
  key: string;
  optional?: boolean;
}

export interface ObjectFieldSelector {
  fieldPath: string;
  apiVersion?: string;
}

export interface EnvVarSource {
  secretKeyRef?: SecretKeySelector;
  configMapKeyRef?: { name: string; key: string; optional?: boolean };
  fieldRef?: ObjectFieldSelector;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: EnvVarSource;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface ResourceRequirements {
  limits?: Record<string, Quantity>;
  requests?: Record<string, Quantity>;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

export interface HTTPGetAction {
  path?: string;
  port: IntOrString;
  scheme?: 'HTTP' | 'HTTPS';
}

export interface Probe {
  httpGet?: HTTPGetAction;
  tcpSocket?: { port: IntOrString };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface Capabilities {
  add?: string[];
  drop?: string[];
}

export interface SecurityContext {
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  capabilities?: Capabilities;
}

export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  ports?: ContainerPort[];
  resources?: ResourceRequirements;
  volumeMounts?: VolumeMount[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  securityContext?: SecurityContext;
  terminationMessagePolicy?: 'File' | 'FallbackToLogsOnError';
}

export interface EmptyDirVolumeSource {
  medium?: '' | 'Memory';
  sizeLimit?: Quantity;
}

export interface Volume {
  name: string;
  emptyDir?: EmptyDirVolumeSource;
  secret?: { secretName: string; optional?: boolean };
  configMap?: { name: string; optional?: boolean };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: '' | 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

export interface PodSecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  fsGroup?: number;
  seccompProfile?: { type: 'RuntimeDefault' | 'Unconfined' | 'Localhost'; localhostProfile?: string };
}

export interface PodSpec {
  initContainers?: Container[];
  containers: Container[];
  volumes?: Volume[];
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  terminationGracePeriodSeconds?: number;
  enableServiceLinks?: boolean;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: PodSecurityContext;
  subdomain?: string;
  hostname?: string;
}

export interface PodTemplateSpec {
  metadata?: ObjectMeta;
  spec: PodSpec;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

// ---- LeaderWorkerSet (leaderworkerset.x-k8s.io/v1) ----

export type LwsRestartPolicy = 'RecreateGroupOnPodRestart' | 'None' | 'Default';
export type LwsStartupPolicy = 'LeaderCreated' | 'LeaderReady';
export type SubdomainPolicy = 'Shared' | 'UniquePerReplica';

export interface RollingUpdateConfiguration {
  maxUnavailable: IntOrString;
  maxSurge: IntOrString;
  partition?: number;
}

export interface RolloutStrategy {
  type: 'RollingUpdate';
  rollingUpdateConfiguration: RollingUpdateConfiguration;
}

export interface SubGroupPolicy {
  subGroupPolicyType?: 'LeaderWorker' | 'LeaderExcluded';
  subGroupSize?: number;
}

export interface LeaderWorkerTemplate {
  size: number;
  leaderTemplate?: PodTemplateSpec;
  workerTemplate: PodTemplateSpec;
  restartPolicy: LwsRestartPolicy;
  subGroupPolicy?: SubGroupPolicy;
}

export interface NetworkConfig {
  subdomainPolicy: SubdomainPolicy;
}

export interface LeaderWorkerSetSpec {
  replicas: number;
  leaderWorkerTemplate: LeaderWorkerTemplate;
  startupPolicy: LwsStartupPolicy;
  rolloutStrategy: RolloutStrategy;
  networkConfig?: NetworkConfig;
}

export interface LeaderWorkerSetStatus {
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  hpaPodSelector?: string;
  conditions?: Condition[];
}

export interface LeaderWorkerSet {
  apiVersion: 'leaderworkerset.x-k8s.io/v1';
  kind: 'LeaderWorkerSet';
  metadata: ObjectMeta;
  spec: LeaderWorkerSetSpec;
  status?: LeaderWorkerSetStatus;
}
