/**
 * The real package, as npm would install it: builds it (tsup), packs it
 * (npm pack), unpacks the tarball into a scratch node_modules, and
 * type-checks a consumer that uses every entry under node10, node16 (from
 * an ES module and from CommonJS) and bundler resolution, with the
 * package's declarations checked too (skipLibCheck off): as Node projects
 * are set up (@types/node) and browser ones (lib dom), which must pass, and
 * with ES2022 alone, which is reported. Prints the
 * tarball's size and what it holds. Run by `npm run check:package`, not by
 * CI (the declaration build takes a minute).
 *
 *   npx tsx tools/check-package-types.ts [--no-build]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESOLUTIONS, typecheck, writeConsumer } from '../test/helpers/package-consumer.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Uses a value of each entry, so a declaration that resolves to nothing (or to `any` parts) fails. */
const CONSUMER = `import { gradCam, loadSafetensors, Tensor, TinycamError } from 'tinycam';
import { decodeImage, preprocess, type RgbaImage } from 'tinycam/image';
import { loadOnnx, GraphModule } from 'tinycam/onnx';
import { resnet18 } from 'tinycam/models';
import { fromNdarray } from 'tinycam/ndarray';
import { loadOnnxFile } from 'tinycam/node';
import { WorkerPool, serveWorker } from 'tinycam/worker';

export function explain(photo: Uint8Array, weights: Uint8Array, onnx: Uint8Array): Float32Array {
  const image: RgbaImage = decodeImage(photo);
  const input: Tensor = preprocess(image, { resize: { width: 224, height: 224 } });
  const model = resnet18();
  model.loadStateDict(loadSafetensors(weights));
  const graph: GraphModule = loadOnnx(onnx);
  const fromFile: GraphModule = loadOnnxFile('model.onnx');
  const { maps } = gradCam(model, input);
  void graph;
  void fromFile;
  void fromNdarray;
  void WorkerPool;
  void serveWorker;
  // @ts-expect-error a map is a Tensor, not a string
  const wrong: string = maps;
  void wrong;
  return maps.data;
}
export const isTyped = (e: unknown): boolean => e instanceof TinycamError;
`;

function main(): void {
  if (!process.argv.includes('--no-build')) execFileSync('npx', ['tsup'], { cwd: ROOT, stdio: 'inherit' });
  const scratch = mkdtempSync(join(tmpdir(), 'tinycam-package-'));
  try {
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: ROOT, encoding: 'utf8' }))[0];
    console.log(`npm pack: ${packed.filename}, ${(packed.size / 1024).toFixed(0)} KiB packed, ${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${packed.files.length} files`);
    const modules = join(scratch, 'node_modules');
    mkdirSync(join(modules, 'tinycam'), { recursive: true });
    execFileSync('tar', ['-xzf', join(scratch, packed.filename), '-C', join(modules, 'tinycam'), '--strip-components=1']);
    // The package's dependencies, as npm would install them beside it.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      mkdirSync(dirname(join(modules, dep)), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', dep), join(modules, dep));
    }
    mkdirSync(join(modules, '@types'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules/@types/node'), join(modules, '@types/node'));
    console.log(`unpacked: ${readdirSync(join(modules, 'tinycam')).join(', ')}`);
    let failed = false;
    for (const resolution of RESOLUTIONS) {
      // As such projects are set up: Node ones with @types/node, bundled ones for the browser with the DOM's lib.
      const node = resolution.name.startsWith('node');
      const usual = node ? { types: ['node'] } : { lib: ['es2022', 'dom'] };
      const dir = join(scratch, resolution.name.replace(/\W+/g, '-'));
      writeConsumer(dir, resolution, CONSUMER, usual);
      const result = typecheck(dir);
      console.log(`${resolution.name} (${node ? '@types/node' : 'lib dom'}): ${result.ok ? 'ok' : `FAILED\n${result.output}`}`);
      failed ||= !result.ok;
      // And with nothing but ES2022: what declarations need from outside the language shows here (a warning).
      writeConsumer(`${dir}-bare`, resolution, CONSUMER);
      const bare = typecheck(`${dir}-bare`);
      console.log(`${resolution.name} (lib es2022 only): ${bare.ok ? 'ok' : `warning: the declarations need more than ES2022\n${bare.output}`}`);
    }
    if (failed) process.exitCode = 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main();
