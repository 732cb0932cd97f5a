export * from './types';
export * from './naming';
export * from './shell';
export * from './sizing';
export * from './engines';
export * from './extra-args';
export * from './render';
export * from './crd-schema';
