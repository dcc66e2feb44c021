export * from './module.js';
export type { InitOptions } from './init.js';
export * from './containers.js';
export * from './conv.js';
export * from './linear.js';
export * from './pooling.js';
export * from './normalization.js';
export * from './activation.js';
export * from './dropout.js';
