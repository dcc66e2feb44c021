import { record } from '../autograd.js';
import { kernels } from '../backend.js';
import { binaryMap, sumToShape, unaryMap } from '../broadcast.js';
import { checkElements } from '../limits.js';
import { bufferToOverwrite } from '../buffer-pool.js';
import { backwardOf, leafOf, tangentSum } from '../tangent.js';
import { Tensor, sameShape } from '../tensor.js';

/**
 * Elementwise arithmetic with broadcasting. Each op is its forward kernel
 * followed by its backward rule; broadcasting's backward is `sumToShape`.
 * A plain number is accepted wherever a tensor is and is treated as a scalar.
 */
export type TensorLike = Tensor | number;

export function asTensor(x: TensorLike): Tensor {
  return typeof x === 'number' ? new Tensor(Float32Array.of(x), []) : x;
}

export function add(a: TensorLike, b: TensorLike): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  const out = sameShape(x.shape, y.shape) ? addSameShape(x, y) : binaryMap(x, y, 'add', (p, q) => p + q);
  return record('add', out, [x, y], (g, needs) => [
    needs[0] ? sumToShape(g, x.shape) : null,
    needs[1] ? sumToShape(g, y.shape) : null,
  ], { tangent: ([dx, dy]) => tangentSum(out.shape, dx, dy) });
}

/** The residual add of a network: no broadcasting, one kernel call. */
function addSameShape(x: Tensor, y: Tensor): Tensor {
  checkElements(x.size, 'add');
  const out = bufferToOverwrite(x.size);
  kernels().add(x.data, y.data, out);
  return new Tensor(out, x.shape);
}

export function sub(a: TensorLike, b: TensorLike): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  const out = binaryMap(x, y, 'sub', (p, q) => p - q);
  return record('sub', out, [x, y], (g, needs) => [
    needs[0] ? sumToShape(g, x.shape) : null,
    needs[1] ? sumToShape(unaryMap(g, (v) => -v), y.shape) : null,
  ], { tangent: ([dx, dy]) => tangentSum(out.shape, dx, dy && unaryMap(dy, (v) => -v)) });
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  const out = binaryMap(x, y, 'mul', (p, q) => p * q);
  return record('mul', out, [x, y], (g, needs) => [
    needs[0] ? sumToShape(binaryMap(g, y, 'mul', (p, q) => p * q), x.shape) : null,
    needs[1] ? sumToShape(binaryMap(g, x, 'mul', (p, q) => p * q), y.shape) : null,
  ], {
    tangent: ([dx, dy]) => tangentSum(out.shape, dx && binaryMap(dx, y, 'mul', (p, q) => p * q), dy && binaryMap(x, dy, 'mul', (p, q) => p * q)),
    // Bilinear: d/dt (g y) = g dy, d/dt (g x) = g dx.
    curvature: ([dx, dy], g, needs) => [
      needs[0] && dy ? backwardOf(() => mul(leafOf(x), dy), g, 0) : null,
      needs[1] && dx ? backwardOf(() => mul(dx, leafOf(y)), g, 1) : null,
    ],
  });
}

export function div(a: TensorLike, b: TensorLike): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  const out = binaryMap(x, y, 'div', (p, q) => p / q);
  return record('div', out, [x, y], (g, needs) => [
    needs[0] ? sumToShape(binaryMap(g, y, 'div', (p, q) => p / q), x.shape) : null,
    // d(x/y)/dy = -x / y^2 = -out / y
    needs[1]
      ? sumToShape(
          binaryMap(binaryMap(g, out, 'div', (p, q) => -p * q), y, 'div', (p, q) => p / q),
          y.shape,
        )
      : null,
  ], {
    // d(x / y) = dx / y - out dy / y
    tangent: ([dx, dy]) =>
      tangentSum(out.shape, dx && binaryMap(dx, y, 'div', (p, q) => p / q), dy && binaryMap(binaryMap(out, dy, 'div', (p, q) => -p * q), y, 'div', (p, q) => p / q)),
    // backward: (g / y, -g out / y); along (dx, dy): (-g dy / y^2, -g d(out) / y + g out dy / y^2)
    curvature: ([dx, dy], g, needs) => {
      const gy = binaryMap(g, y, 'div', (p, q) => p / q);
      const dOut = tangentSum(out.shape, dx && binaryMap(dx, y, 'div', (p, q) => p / q), dy && binaryMap(binaryMap(out, dy, 'div', (p, q) => -p * q), y, 'div', (p, q) => p / q));
      return [
        needs[0] && dy ? sumToShape(binaryMap(binaryMap(gy, dy, 'div', (p, q) => -p * q), y, 'div', (p, q) => p / q), x.shape) : null,
        needs[1]
          ? sumToShape(
              tangentSum(out.shape, binaryMap(gy, dOut, 'div', (p, q) => -p * q), dy && binaryMap(binaryMap(gy, out, 'div', (p, q) => p * q), binaryMap(dy, y, 'div', (p, q) => p / q), 'div', (p, q) => p * q)),
              y.shape,
            )
          : null,
      ];
    },
  });
}

export function neg(a: Tensor): Tensor {
  const out = unaryMap(a, (v) => -v);
  return record('neg', out, [a], (g) => [unaryMap(g, (v) => -v)], { tangent: ([dx]) => unaryMap(dx!, (v) => -v) });
}

export function exp(a: Tensor): Tensor {
  const out = unaryMap(a, Math.exp);
  return record('exp', out, [a], (g) => [binaryMap(g, out, 'exp', (p, q) => p * q)], {
    tangent: ([dx]) => binaryMap(dx!, out, 'exp', (p, q) => p * q),
    curvature: ([dx], g) => [binaryMap(binaryMap(g, out, 'exp', (p, q) => p * q), dx!, 'exp', (p, q) => p * q)],
  });
}

export function log(a: Tensor): Tensor {
  const out = unaryMap(a, Math.log);
  return record('log', out, [a], (g) => [binaryMap(g, a, 'log', (p, q) => p / q)], {
    tangent: ([dx]) => binaryMap(dx!, a, 'log', (p, q) => p / q),
    curvature: ([dx], g) => [binaryMap(binaryMap(g, dx!, 'log', (p, q) => -p * q), a, 'log', (p, q) => p / (q * q))],
  });
}

export function sqrt(a: Tensor): Tensor {
  const out = unaryMap(a, Math.sqrt);
  return record('sqrt', out, [a], (g) => [binaryMap(g, out, 'sqrt', (p, q) => p / (2 * q))], {
    tangent: ([dx]) => binaryMap(dx!, out, 'sqrt', (p, q) => p / (2 * q)),
    // d/dt g / (2 out) = -g d(out) / (2 out^2), d(out) = dx / (2 out)
    curvature: ([dx], g) => [binaryMap(binaryMap(g, dx!, 'sqrt', (p, q) => -p * q), out, 'sqrt', (p, q) => p / (4 * q * q * q))],
  });
}

export function abs(a: Tensor): Tensor {
  const out = unaryMap(a, Math.abs);
  // sign(0) = 0, as PyTorch
  return record('abs', out, [a], (g) => [binaryMap(g, a, 'abs', (p, q) => (q > 0 ? p : q < 0 ? -p : 0))], {
    tangent: ([dx]) => binaryMap(dx!, a, 'abs', (p, q) => (q > 0 ? p : q < 0 ? -p : 0)),
  });
}

/** a ** b, elementwise with broadcasting (either may be a number). */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  const out = binaryMap(x, y, 'pow', Math.pow);
  return record('pow', out, [x, y], (g, needs) => [
    needs[0]
      ? sumToShape(
          // d/dx x^y = y x^(y-1); written so that y = 0 gives 0 and x = 0, y >= 1 stays finite
          binaryMap(g, binaryMap(x, y, 'pow', (p, q) => (q === 0 ? 0 : q * Math.pow(p, q - 1))), 'pow', (p, q) => p * q),
          x.shape,
        )
      : null,
    needs[1]
      ? sumToShape(
          // d/dy x^y = x^y ln x; PyTorch gives 0 where x = 0 (and y >= 0)
          binaryMap(g, binaryMap(out, x, 'pow', (o, p) => (p === 0 ? 0 : o * Math.log(p))), 'pow', (p, q) => p * q),
          y.shape,
        )
      : null,
  ]);
}

/**
 * Elementwise maximum. Where a == b the gradient is split in half between
 * them, as PyTorch's `torch.maximum` does.
 */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return extremum(a, b, 'maximum', (p, q) => p > q);
}

/** Elementwise minimum (ties split the gradient, as PyTorch). */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return extremum(a, b, 'minimum', (p, q) => p < q);
}

function extremum(a: TensorLike, b: TensorLike, op: string, firstWins: (p: number, q: number) => boolean): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  const out = binaryMap(x, y, op, (p, q) => (Number.isNaN(p) || Number.isNaN(q) ? NaN : firstWins(p, q) || p === q ? p : q));
  return record(op, out, [x, y], (g, needs) => {
    const share = (mine: Tensor, other: Tensor): Tensor =>
      binaryMap(binaryMap(mine, other, op, (p, q) => (p === q ? 0.5 : firstWins(p, q) ? 1 : 0)), g, op, (w, v) => w * v);
    return [
      needs[0] ? sumToShape(share(x, y), x.shape) : null,
      needs[1] ? sumToShape(share(y, x), y.shape) : null,
    ];
  }, {
    // Piecewise linear: the winner's tangent (half each on ties, as the backward).
    tangent: ([dx, dy]) => {
      const weight = (mine: Tensor, other: Tensor): Tensor => binaryMap(mine, other, op, (p, q) => (p === q ? 0.5 : firstWins(p, q) ? 1 : 0));
      return tangentSum(out.shape, dx && binaryMap(weight(x, y), dx, op, (w, v) => w * v), dy && binaryMap(weight(y, x), dy, op, (w, v) => w * v));
    },
  });
}
