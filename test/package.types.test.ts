/**
 * The package's declarations resolve for every entry under each module
 * resolution a user's tsconfig may have: package.json's "exports" (node16,
 * bundler) and its "typesVersions" (node10, which ignores "exports"). The
 * package here is the real package.json over stand-in declarations, one
 * per entry and format, each naming itself, so the test is fast and shows
 * which file every import resolved to. tools/check-package-types.ts runs
 * the same consumer against the real build.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRIES, RESOLUTIONS, typecheck, writeConsumer } from './helpers/package-consumer.js';

const ROOT = join(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'tinycam-types-'));
const control = mkdtempSync(join(tmpdir(), 'tinycam-types-control-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(control, { recursive: true, force: true });
});

const pkg = join(scratch, 'node_modules', 'tinycam');
mkdirSync(join(pkg, 'dist'), { recursive: true });
writeFileSync(join(pkg, 'package.json'), readFileSync(join(ROOT, 'package.json')));
for (const file of Object.values(ENTRIES)) {
  for (const [ext, flavour] of [['d.ts', 'esm'], ['d.cts', 'cjs']] as const) {
    writeFileSync(join(pkg, 'dist', `${file}.${ext}`), `export declare const entry: '${file}';\nexport declare const flavour: '${flavour}';\n`);
  }
}

/** The consumer: every entry imported; the types say which declaration file each import must reach. */
function consumer(flavour: 'esm' | 'cjs'): string {
  const subpaths = Object.keys(ENTRIES);
  return [
    ...subpaths.map((s, i) => `import { entry as e${i}, flavour as f${i} } from '${s}';`),
    `export const entries: [${subpaths.map((s) => `'${ENTRIES[s]}'`).join(', ')}] = [${subpaths.map((_, i) => `e${i}`).join(', ')}];`,
    `export const flavours: [${subpaths.map(() => `'${flavour}'`).join(', ')}] = [${subpaths.map((_, i) => `f${i}`).join(', ')}];`,
    '',
  ].join('\n');
}

describe('types resolve for every entry', () => {
  it.each(RESOLUTIONS.map((r) => [r.name, r] as const))('moduleResolution %s', (_, resolution) => {
    // An ES-module consumer gets the .d.ts of "import", a CommonJS one under node16 the .d.cts of "require";
    // node10 knows no conditions and takes typesVersions' .d.ts.
    const flavour = resolution.type === 'commonjs' && resolution.name.startsWith('node16') ? 'cjs' : 'esm';
    const dir = join(scratch, resolution.name.replace(/\W+/g, '-'));
    writeConsumer(dir, resolution, consumer(flavour));
    const result = typecheck(dir);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  it('fails without typesVersions under node10 (the control: the test sees what it claims to)', () => {
    // Its own folder: resolution walks up, and must not find the package above.
    const dir = join(control, 'consumer');
    const stripped = join(dir, 'node_modules', 'tinycam');
    mkdirSync(join(stripped, 'dist'), { recursive: true });
    const json = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    delete json.typesVersions;
    writeFileSync(join(stripped, 'package.json'), JSON.stringify(json));
    for (const file of Object.values(ENTRIES)) writeFileSync(join(stripped, 'dist', `${file}.d.ts`), `export declare const entry: '${file}';\nexport declare const flavour: 'esm';\n`);
    writeConsumer(dir, RESOLUTIONS[0]!, consumer('esm'));
    const result = typecheck(dir);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/Cannot find module 'tinycam\/image'/);
  });
});
