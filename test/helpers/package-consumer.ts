/**
 * A tiny TypeScript project that imports every entry of the tinycam
 * package, type-checked the way users' projects resolve modules:
 * `node10` (TypeScript's old default, which ignores "exports" and needs
 * "typesVersions" for subpaths), `node16` from an ES module and from a
 * CommonJS one, and `bundler`. Used by test/package.types.test.ts (against
 * stand-in declarations) and tools/check-package-types.ts (against the real
 * build, packed with npm pack).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** Subpath -> the dist file name of its declarations. */
export const ENTRIES: Record<string, string> = {
  tinycam: 'index',
  'tinycam/image': 'image',
  'tinycam/onnx': 'onnx',
  'tinycam/models': 'models',
  'tinycam/ndarray': 'ndarray',
  'tinycam/node': 'node',
  'tinycam/worker': 'worker',
};

export interface Resolution {
  name: string;
  compilerOptions: Record<string, string>;
  /** The consumer's package.json "type". */
  type: 'module' | 'commonjs';
}

export const RESOLUTIONS: Resolution[] = [
  { name: 'node10', compilerOptions: { module: 'commonjs', moduleResolution: 'node10' }, type: 'commonjs' },
  { name: 'node16 (ES module)', compilerOptions: { module: 'node16', moduleResolution: 'node16' }, type: 'module' },
  { name: 'node16 (CommonJS)', compilerOptions: { module: 'node16', moduleResolution: 'node16' }, type: 'commonjs' },
  { name: 'bundler', compilerOptions: { module: 'esnext', moduleResolution: 'bundler' }, type: 'module' },
];

/**
 * Writes a consumer project in `dir` (beside a node_modules/tinycam) whose
 * only file is `source`; `extra` adds compiler options (lib, types).
 */
export function writeConsumer(dir: string, resolution: Resolution, source: string, extra: Record<string, unknown> = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: resolution.type }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      // The package's declarations are checked, TypeScript's own lib files not (they cost seconds).
      compilerOptions: {
        ...resolution.compilerOptions,
        target: 'es2022',
        lib: ['es2022'],
        strict: true,
        noEmit: true,
        skipDefaultLibCheck: true,
        types: [],
        ...extra,
      },
      files: ['consumer.ts'],
    }),
  );
  writeFileSync(join(dir, 'consumer.ts'), source);
}

/** TypeScript's own lib files, parsed once for all the consumers of a run. */
const libFiles = new Map<string, ts.SourceFile | undefined>();

/** Type-checks the project in `dir` with this repository's TypeScript (in process); returns its diagnostics ('' when clean). */
export function typecheck(dir: string): { ok: boolean; output: string } {
  const config = ts.readConfigFile(join(dir, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, dir);
  const host = ts.createCompilerHost(parsed.options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    if (!fileName.includes('/node_modules/typescript/lib/')) return read(fileName, languageVersion, onError, shouldCreate);
    if (!libFiles.has(fileName)) libFiles.set(fileName, read(fileName, languageVersion, onError, shouldCreate));
    return libFiles.get(fileName);
  };
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, host });
  const diagnostics = [...parsed.errors, ...ts.getPreEmitDiagnostics(program)];
  const output = ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => dir, getNewLine: () => '\n' });
  return { ok: diagnostics.length === 0, output: output.trim() };
}
