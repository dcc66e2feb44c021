/**
 * Says at the end of a run what the missing reference data left out, in one
 * line, e.g. on a fresh clone:
 *
 *   ../shared not found beside the repository: 436 tests in 19 suites skipped
 *   (fixtures 371, fixtures2 63, onnx-pytorch-converted 2); 152 tests ran over
 *   the compact copy in test/fixtures instead
 *
 * The suites that need reference data are declared with describeShared /
 * describeReference / itReference (./shared.ts), which tag them with the
 * data they need and the copy this run used. How many tests a suite holds
 * over the full data can only be known where the data is, so runs with
 * ../shared record it in test/fixtures/full-counts.json (rewritten when a
 * count changes: commit it with the change), and runs without it subtract.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestCase, TestModule, TestRunEndReason, TestSuite } from 'vitest/node';
import { COMPACT, hasShared, type ReferenceData } from './shared.js';

const RECORD = join(COMPACT, 'full-counts.json');

interface Recorded {
  reference: string;
  tests: number;
}

interface Missing {
  tests: number;
  suites: number;
  /** Some count was never recorded: the number is a lower bound. */
  unknown: boolean;
}

function readRecord(): Record<string, Recorded> {
  return existsSync(RECORD) ? (JSON.parse(readFileSync(RECORD, 'utf8')) as Record<string, Recorded>) : {};
}

/** One suite a line, sorted, so that merges touch few lines. */
function formatRecord(record: Record<string, Recorded>): string {
  const lines = Object.keys(record)
    .sort()
    .map((key) => `  ${JSON.stringify(key)}: ${JSON.stringify(record[key])}`);
  return `{\n${lines.join(',\n')}\n}\n`;
}

const folderOf = (reference: string): string => reference.split('/')[0]!;

/** Whether a suite or test is the outermost one tagged with reference data. */
function isOutermost(task: TestSuite | TestCase): boolean {
  return task.meta().reference !== undefined && !(task.parent.type === 'suite' && task.parent.meta().reference !== undefined);
}

export default class ReferenceReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, _errors: unknown, reason: TestRunEndReason): void {
    if (reason === 'interrupted') return;
    const record = readRecord();
    const updated = { ...record };
    const missing = new Map<string, Missing>();
    let ranCompact = 0;
    const miss = (reference: string, tests: number, unknown = false): void => {
      const m = missing.get(folderOf(reference)) ?? { tests: 0, suites: 0, unknown: false };
      missing.set(folderOf(reference), { tests: m.tests + tests, suites: m.suites + 1, unknown: m.unknown || unknown });
    };

    for (const module of testModules) {
      if (module.errors().length > 0) continue; // not collected: its counts say nothing
      const file = module.relativeModuleId;
      const seen = new Set<string>();
      for (const suite of module.children.allSuites()) {
        if (!isOutermost(suite)) continue;
        const { reference = '', referenceData } = suite.meta();
        const key = `${file} > ${suite.fullName}`;
        seen.add(key);
        const tests = [...suite.children.allTests()];
        // Tests inside that need data this run lacks (itReference) are registered, skipped.
        const absentInside = referenceData === 'absent' ? 0 : tests.filter((t) => t.meta().referenceData === 'absent').length;
        const full = record[key]?.tests;
        if (referenceData === 'full') {
          updated[key] = { reference, tests: tests.length };
          if (absentInside > 0) miss(reference, absentInside);
        } else if (referenceData === 'compact') {
          ranCompact += tests.length - absentInside;
          const left = (full === undefined ? 0 : Math.max(0, full - tests.length)) + absentInside;
          if (left > 0 || full === undefined) miss(reference, left, full === undefined);
        } else {
          miss(reference, full ?? tests.length, full === undefined);
        }
      }
      for (const test of module.children.allTests()) {
        if (!isOutermost(test)) continue;
        const data: ReferenceData | undefined = test.meta().referenceData;
        if (data === 'compact') ranCompact++;
        else if (data === 'absent') miss(test.meta().reference!, 1);
      }
      // Suites recorded from a full run that this run did not declare (their
      // titles come from the full data, e.g. one suite per model).
      for (const [key, { reference, tests }] of Object.entries(record)) {
        if (!key.startsWith(`${file} > `) || seen.has(key)) continue;
        if (hasShared(reference)) delete updated[key]; // the suite is gone
        else miss(reference, tests);
      }
    }

    const text = formatRecord(updated);
    if (text !== formatRecord(record)) {
      writeFileSync(RECORD, text);
      console.log(`reference counts changed: rewrote test/fixtures/full-counts.json (commit it with the change)`);
    }
    if (missing.size === 0) return;
    const folders = [...missing.keys()].sort();
    const where = hasShared() ? folders.map((f) => `../shared/${f}`).join(', ') : '../shared';
    const total = [...missing.values()].reduce((a, m) => ({ tests: a.tests + m.tests, suites: a.suites + m.suites, unknown: a.unknown || m.unknown }));
    const atLeast = (m: Missing): string => `${m.unknown ? 'at least ' : ''}${m.tests}`;
    const perFolder = folders.map((f) => `${f} ${atLeast(missing.get(f)!)}`).join(', ');
    const compact = ranCompact > 0 ? `; ${ranCompact} tests ran over the compact copy in test/fixtures instead` : '';
    console.log(`\n${where} not found beside the repository: ${atLeast(total)} tests in ${total.suites} suites skipped (${perFolder})${compact}`);
  }
}
