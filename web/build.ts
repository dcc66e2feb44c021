/**
 * `npm run build:web`: the page as a static folder (web/dist) that any static
 * host serves: index.html, style.css, main.js and worker.js (tinycam bundled
 * from source by its entry points), the sample photos, the built-in model.
 */
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '../tools/bundle.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const WEB_DIST = join(HERE, 'dist');

export async function buildWeb(out = WEB_DIST): Promise<{ out: string; bytes: Record<string, number> }> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'models'), { recursive: true });
  const bytes: Record<string, number> = {};
  for (const name of ['main', 'worker']) {
    const meta = await bundle({ entry: join(HERE, 'src', `${name}.ts`), outfile: join(out, `${name}.js`), platform: 'browser', minify: true, sourcemap: true });
    for (const [file, o] of Object.entries(meta.outputs)) if (file.endsWith('.js')) bytes[relative(out, resolve(file))] = o.bytes;
  }
  cpSync(join(HERE, 'index.html'), join(out, 'index.html'));
  cpSync(join(HERE, 'style.css'), join(out, 'style.css'));
  cpSync(join(HERE, 'public'), out, { recursive: true });
  cpSync(join(HERE, '../examples/shapes/shapes-cnn.safetensors'), join(out, 'models/shapes-cnn.safetensors'));
  return { out, bytes };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { out, bytes } = await buildWeb(process.argv[2] ? resolve(process.argv[2]) : WEB_DIST);
  for (const [file, size] of Object.entries(bytes)) console.log(`  ${file}  ${(size / 1024).toFixed(0)} KiB`);
  console.log(`wrote ${relative(process.cwd(), out) || out}/ (serve it with any static server, or: npm run web)`);
}
