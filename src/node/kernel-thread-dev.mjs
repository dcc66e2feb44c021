// Development only: runs the kernel thread entry from TypeScript source (tests,
// tsx scripts). The built package starts dist/kernel-thread.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./kernel-thread-entry.ts');
