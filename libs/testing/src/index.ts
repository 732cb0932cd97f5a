export * from './probe';
export * from './stack';
