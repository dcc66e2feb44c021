// Development only: runs the worker entry from TypeScript source (tests, tsx
// scripts). The built package starts dist/node-worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./worker-entry.ts');
