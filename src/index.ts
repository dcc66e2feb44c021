/**
 * tinycam's core entry: tensors and autodiff, layers, CAM methods, metrics and
 * optimisers. It imports no Node built-in and generates no code from
 * strings, so it runs in browsers and on edge runtimes.
 */
export * from './tensor/index.js';
export * from './layers/index.js';
export * from './cam/index.js';
export * from './optim/index.js';
export * from './metrics/index.js';
