export * from './types';
export * from './policy';
export * from './decide';
