import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every source file the core entry reaches through relative imports. */
function importGraph(entry: string): Map<string, string> {
  const files = new Map<string, string>();
  const stack = [entry];
  while (stack.length) {
    const file = stack.pop()!;
    if (files.has(file)) continue;
    const text = readFileSync(file, 'utf8');
    files.set(file, text);
    // Imports in doc comments (usage examples) are not imports.
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of code.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) stack.push(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      else files.set(`bare:${spec}`, '');
    }
  }
  return files;
}

describe('the core entry point runs on edge runtimes', () => {
  const graph = importGraph(join(ROOT, 'src/index.ts'));

  it('imports no Node built-in and no third-party package', () => {
    const bare = [...graph.keys()].filter((k) => k.startsWith('bare:')).map((k) => k.slice(5));
    expect(bare).toEqual([]);
    expect(graph.size).toBeGreaterThan(10);
  });

  it('generates no code from strings', () => {
    for (const [file, text] of graph) {
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      // a global eval call, not a method such as Module.eval() or model.eval()
      expect(/new Function\s*\(|(?<![.\w])eval\s*\((?!\)\s*:)/.test(code), file).toBe(false);
    }
  });

  it('loads and differentiates under node --disallow-code-generation-from-strings', () => {
    const out = execFileSync(
      process.execPath,
      ['--disallow-code-generation-from-strings', '--import', 'tsx', join(ROOT, 'test/edge/core-smoke.ts')],
      { cwd: ROOT, encoding: 'utf8' },
    );
    const result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result.ok).toBe(true);
    expect(result.dA).toEqual([1, 4, 8, 8]);
    expect(result.logits.every(Number.isFinite)).toBe(true);
  });
});
