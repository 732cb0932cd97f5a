export * from './probe';
export * from './stack';
export * from './controlplane/build';
export * from './controlplane/start';
