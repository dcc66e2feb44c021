/**
 * docs/teaching.md promises that each snippet runs and prints the block
 * under it. This test holds it to that: it runs every ```ts block with tsx
 * (as the guide tells readers to) and compares its output with the ```text
 * block that follows. The expected outputs are the guide's hand-derived
 * values (7 for d(x^2 + 3x)/dx at 2, the conv gradients worked out in the
 * text, ...), so a wrong engine or a stale guide fails here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const guide = readFileSync(join(root, 'docs', 'teaching.md'), 'utf8');

/** Each ts block with the text block right after it (only prose may come between). */
function snippets(markdown: string): { code: string; expected: string }[] {
  const blocks = [...markdown.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, body: m[2]!, index: m.index! }));
  const out: { code: string; expected: string }[] = [];
  blocks.forEach((block, i) => {
    if (block.lang !== 'ts') return;
    const next = blocks[i + 1];
    if (!next || next.lang !== 'text') throw new Error(`teaching.md: the ts block at offset ${block.index} has no text block with its output`);
    out.push({ code: block.body, expected: next.body });
  });
  return out;
}

const scratch = mkdtempSync(join(tmpdir(), 'tinycam-teaching-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('docs/teaching.md', () => {
  const cases = snippets(guide);

  it('has a snippet for every step', () => {
    expect(cases.length).toBeGreaterThanOrEqual(7);
  });

  cases.forEach(({ code, expected }, i) => {
    it(`snippet ${i + 1} prints what the guide says`, () => {
      // The guide's imports are relative to the repository root (where readers
      // save scratch.ts); the copy here runs from a temporary folder, and the
      // snippets' relative file reads are resolved by running from the root.
      const file = join(scratch, `snippet-${i + 1}.ts`);
      writeFileSync(file, code.replace(/from '\.\/(src|examples)\//g, (_m, dir: string) => `from '${root}/${dir}/`));
      const stdout = execFileSync(join(root, 'node_modules', '.bin', 'tsx'), [file], { cwd: root, encoding: 'utf8', timeout: 60_000 });
      expect(stdout).toBe(expected);
    }, 90_000);
  });
});
