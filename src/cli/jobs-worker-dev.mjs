// Development only: runs the `explain --jobs` worker from TypeScript source
// (tests, `npx tsx src/cli/main.ts`). The built command starts dist/cli-worker.js.
import { register } from 'tsx/esm/api';

register();
await import('./jobs-worker.ts');
