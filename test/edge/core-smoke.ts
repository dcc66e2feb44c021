// Run by test/core.edge.test.ts under `node --disallow-code-generation-from-strings`:
// the core entry must load and work where eval and new Function are forbidden
// (Cloudflare Workers, Vercel Edge, strict-CSP pages).
import * as tinycam from '../../src/index.js';

const { tensor, conv2d, relu, globalAvgPool2d, flatten, linear, grad, randn, sum, mul } = tinycam;
const x = randn([1, 3, 8, 8], { seed: 1 });
const w = randn([4, 3, 3, 3], { seed: 2 }).requireGrad();
const a = relu(conv2d(x, w, null, { padding: 1 }));
const logits = linear(flatten(globalAvgPool2d(a), 1), randn([2, 4], { seed: 3 }));
const [dA] = grad(sum(mul(logits, tensor([1, 0], [1, 2]))), [a]);
console.log(JSON.stringify({ ok: true, logits: Array.from(logits.data), dA: dA!.shape }));
