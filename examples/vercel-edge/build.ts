/**
 * `npx tsx examples/vercel-edge/build.ts`: the function in Vercel's Build
 * Output API layout (.vercel/output), ready for `vercel deploy --prebuilt`.
 * Bundled here (tinycam from this repository's source, the weights embedded)
 * because Vercel's own bundler knows neither the alias nor the .safetensors
 * import; in a project that installs tinycam from npm, either works.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '../../tools/bundle.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUTPUT = join(HERE, '.vercel/output');
const FUNCTION = join(OUTPUT, 'functions/api/explain.func');

mkdirSync(FUNCTION, { recursive: true });
await bundle({ entry: join(HERE, 'api/explain.ts'), outfile: join(FUNCTION, 'index.js'), minify: true });
writeFileSync(join(FUNCTION, '.vc-config.json'), `${JSON.stringify({ runtime: 'edge', entrypoint: 'index.js' }, null, 2)}\n`);
writeFileSync(join(OUTPUT, 'config.json'), `${JSON.stringify({ version: 3 }, null, 2)}\n`);
console.log(`wrote ${OUTPUT} (the function answers POST /api/explain): vercel deploy --prebuilt`);
