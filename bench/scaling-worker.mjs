// bench/scaling.ts's worker threads: tsx compiles the TypeScript (workers do not inherit --import).
import { register } from 'tsx/esm/api';

register();
await import('./scaling.ts');
