import { ArgumentError, ShapeError } from '../errors.js';
import { Tensor, shapeString } from '../tensor.js';
import { matmul } from './matmul.js';
import { sum } from './reduce.js';
import { permute, reshape } from './shape.js';

/**
 * Einstein summation (torch.einsum, ONNX Einsum) built from permute, reshape,
 * sum and batched matmul, so its gradient is theirs. Operands are contracted
 * left to right; each pair becomes one [batch, m, k] x [batch, k, n] matmul
 * (attention's 'bhid,bhjd->bhij' and 'bhij,bhjd->bhid' are exactly that).
 * Accepted: letters, '...' for leading broadcast-free axes, implicit output
 * (no '->'). Not accepted: a letter repeated within one operand (diagonals).
 */

interface Term {
  t: Tensor;
  letters: string[];
}

function parse(equation: string, operands: readonly Tensor[]): { inputs: string[][]; output: string[] } {
  const eq = equation.replace(/\s+/g, '');
  const [lhs, rhs] = eq.split('->') as [string, string | undefined];
  const specs = lhs.split(',');
  if (specs.length !== operands.length) {
    throw new ArgumentError(`einsum: '${equation}' names ${specs.length} operand(s) but ${operands.length} were given`);
  }
  // '...' becomes as many private axis names (upper-case Greek) as the operand has unnamed axes.
  let ellipsisRank = -1;
  const ellipsis = (n: number): string[] => Array.from({ length: n }, (_, i) => String.fromCharCode(0x391 + i));
  const inputs = specs.map((spec, k) => {
    const t = operands[k]!;
    const parts = spec.split('...');
    if (parts.length > 2) throw new ArgumentError(`einsum: operand ${k} ('${spec}') has more than one '...'`);
    const named = parts.join('');
    if (!/^[a-zA-Z]*$/.test(named)) throw new ArgumentError(`einsum: operand ${k} ('${spec}') may hold only letters and one '...'`);
    if (parts.length === 1) {
      if (named.length !== t.ndim) throw new ShapeError(`einsum: '${spec}' names ${named.length} axes but operand ${k} has shape ${shapeString(t.shape)}`);
      return [...named];
    }
    const rank = t.ndim - named.length;
    if (rank < 0) throw new ShapeError(`einsum: '${spec}' names more axes than operand ${k} of shape ${shapeString(t.shape)} has`);
    ellipsisRank = Math.max(ellipsisRank, rank);
    return [...parts[0]!, ...ellipsis(rank), ...parts[1]!];
  });
  let output: string[];
  if (rhs === undefined) {
    const counts = new Map<string, number>();
    for (const l of inputs.flat()) counts.set(l, (counts.get(l) ?? 0) + 1);
    output = [...(ellipsisRank > 0 ? ellipsis(ellipsisRank) : []), ...[...counts].filter(([l, c]) => c === 1 && /[a-zA-Z]/.test(l)).map(([l]) => l).sort()];
  } else {
    const parts = rhs.split('...');
    if (parts.length > 2 || !/^[a-zA-Z]*$/.test(parts.join(''))) throw new ArgumentError(`einsum: output '${rhs}' may hold only letters and one '...'`);
    output = parts.length === 1 ? [...rhs] : [...parts[0]!, ...ellipsis(Math.max(ellipsisRank, 0)), ...parts[1]!];
  }
  return { inputs, output };
}

/** Sum the axes whose letters are not in `keep`. */
function sumOut(term: Term, keep: ReadonlySet<string>): Term {
  const axes = term.letters.map((l, i) => (keep.has(l) ? -1 : i)).filter((i) => i >= 0);
  if (!axes.length) return term;
  return { t: sum(term.t, axes), letters: term.letters.filter((l) => keep.has(l)) };
}

function sizeOfLetters(term: Term, letters: readonly string[]): number[] {
  return letters.map((l) => term.t.shape[term.letters.indexOf(l)]!);
}

function arrange(term: Term, letters: readonly string[]): Tensor {
  const order = letters.map((l) => term.letters.indexOf(l));
  return order.every((o, i) => o === i) ? term.t : permute(term.t, order);
}

function contractPair(a: Term, b: Term, keep: ReadonlySet<string>): Term {
  const inB = new Set(b.letters);
  const inA = new Set(a.letters);
  const batch = a.letters.filter((l) => inB.has(l) && keep.has(l));
  const contracted = a.letters.filter((l) => inB.has(l) && !keep.has(l));
  const aOnly = a.letters.filter((l) => !inB.has(l));
  const bOnly = b.letters.filter((l) => !inA.has(l));
  const sizes = (t: Term, ls: string[]) => sizeOfLetters(t, ls);
  const batchSizes = sizes(a, batch);
  const prodOf = (v: number[]) => v.reduce((s, d) => s * d, 1);
  const m = prodOf(sizes(a, aOnly));
  const k = prodOf(sizes(a, contracted));
  const n = prodOf(sizes(b, bOnly));
  const bt = prodOf(batchSizes);
  const left = reshape(arrange(a, [...batch, ...aOnly, ...contracted]), [bt, m, k]);
  const right = reshape(arrange(b, [...batch, ...contracted, ...bOnly]), [bt, k, n]);
  const product = matmul(left, right);
  return { t: reshape(product, [...batchSizes, ...sizes(a, aOnly), ...sizes(b, bOnly)]), letters: [...batch, ...aOnly, ...bOnly] };
}

export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  if (operands.length === 0) throw new ArgumentError('einsum: needs at least one operand');
  const { inputs, output } = parse(equation, operands);
  const sizes = new Map<string, number>();
  inputs.forEach((letters, k) => {
    if (new Set(letters).size !== letters.length) {
      throw new ArgumentError(`einsum: operand ${k} repeats an axis letter in '${equation}'; diagonals are not supported`);
    }
    letters.forEach((l, i) => {
      const d = operands[k]!.shape[i]!;
      const seen = sizes.get(l);
      if (seen !== undefined && seen !== d) {
        throw new ShapeError(`einsum: axis '${l}' has size ${seen} in one operand and ${d} in operand ${k} ('${equation}')`);
      }
      sizes.set(l, d);
    });
  });
  for (const l of output) {
    if (!sizes.has(l)) throw new ArgumentError(`einsum: output axis '${l}' appears in no operand ('${equation}')`);
  }
  if (new Set(output).size !== output.length) throw new ArgumentError(`einsum: the output repeats an axis letter ('${equation}')`);
  const outSet = new Set(output);
  const needed = (from: number): Set<string> => new Set([...output, ...inputs.slice(from).flat()]);
  let acc = sumOut({ t: operands[0]!, letters: inputs[0]! }, new Set([...outSet, ...inputs.slice(1).flat()]));
  for (let k = 1; k < operands.length; k++) {
    const next = sumOut({ t: operands[k]!, letters: inputs[k]! }, new Set([...outSet, ...acc.letters, ...inputs.slice(k + 1).flat()]));
    acc = contractPair(acc, next, needed(k + 1));
  }
  acc = sumOut(acc, outSet);
  return arrange(acc, output);
}
