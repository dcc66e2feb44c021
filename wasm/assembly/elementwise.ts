// Element-wise kernels of a forward pass (src/tensor/kernels/elementwise.ts
// is the pure-TS twin): batch norm in evaluation mode as a per-channel
// scale and shift (optionally followed by ReLU), ReLU, ReLU6, and the residual add.
// Four floats per instruction; `n` need not be a multiple of 4. ReLU is
// f32x4.max with 0, so NaN stays NaN, as torch.relu.

/**
 * dst[p][i] = src[p][i] * scale[c] + shift[c] with c = (first + p) % C, over
 * `planes` planes of `inner` floats (`first`: the index of the first plane
 * in the whole tensor); then max(., 0) when relu.
 */
export function scaleShift(src: usize, dst: usize, planes: i32, inner: i32, C: i32, scale: usize, shift: usize, relu: i32, first: i32): void {
  const zero = f32x4.splat(0);
  let s = src;
  let d = dst;
  for (let p = 0; p < planes; p++) {
    const c = (first + p) % C;
    const a = load<f32>(scale + (<usize>c << 2));
    const b = load<f32>(shift + (<usize>c << 2));
    const av = f32x4.splat(a);
    const bv = f32x4.splat(b);
    let i = 0;
    if (relu) {
      for (; i + 4 <= inner; i += 4) {
        v128.store(d, f32x4.max(f32x4.add(f32x4.mul(v128.load(s), av), bv), zero));
        s += 16;
        d += 16;
      }
      for (; i < inner; i++) {
        store<f32>(d, max<f32>(load<f32>(s) * a + b, 0));
        s += 4;
        d += 4;
      }
    } else {
      for (; i + 4 <= inner; i += 4) {
        v128.store(d, f32x4.add(f32x4.mul(v128.load(s), av), bv));
        s += 16;
        d += 16;
      }
      for (; i < inner; i++) {
        store<f32>(d, load<f32>(s) * a + b);
        s += 4;
        d += 4;
      }
    }
  }
}

/** dst[i] = max(src[i], 0). */
export function relu(src: usize, dst: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  let s = src;
  let d = dst;
  for (; i + 4 <= n; i += 4) {
    v128.store(d, f32x4.max(v128.load(s), zero));
    s += 16;
    d += 16;
  }
  for (; i < n; i++) {
    store<f32>(d, max<f32>(load<f32>(s), 0));
    s += 4;
    d += 4;
  }
}

/** dst[i] = min(max(src[i], 0), 6): ReLU6 (MobileNetV2's activation); NaN stays NaN. */
export function relu6(src: usize, dst: usize, n: i32): void {
  const zero = f32x4.splat(0);
  const six = f32x4.splat(6);
  let i = 0;
  let s = src;
  let d = dst;
  for (; i + 4 <= n; i += 4) {
    v128.store(d, f32x4.min(f32x4.max(v128.load(s), zero), six));
    s += 16;
    d += 16;
  }
  for (; i < n; i++) {
    store<f32>(d, min<f32>(max<f32>(load<f32>(s), 0), 6));
    s += 4;
    d += 4;
  }
}

/** dst[i] = a[i] + b[i]. */
export function addArrays(a: usize, b: usize, dst: usize, n: i32): void {
  let i = 0;
  let p = a;
  let q = b;
  let d = dst;
  for (; i + 4 <= n; i += 4) {
    v128.store(d, f32x4.add(v128.load(p), v128.load(q)));
    p += 16;
    q += 16;
    d += 16;
  }
  for (; i < n; i++) {
    store<f32>(d, load<f32>(p) + load<f32>(q));
    p += 4;
    q += 4;
    d += 4;
  }
}

/** 1 when the `bytes` bytes at a and b are equal (bytes a multiple of 4), else 0. */
export function sameBytes(a: usize, b: usize, bytes: usize): i32 {
  let i: usize = 0;
  for (; i + 64 <= bytes; i += 64) {
    const x = v128.or(
      v128.or(v128.xor(v128.load(a + i), v128.load(b + i)), v128.xor(v128.load(a + i, 16), v128.load(b + i, 16))),
      v128.or(v128.xor(v128.load(a + i, 32), v128.load(b + i, 32)), v128.xor(v128.load(a + i, 48), v128.load(b + i, 48))),
    );
    if (v128.any_true(x)) return 0;
  }
  for (; i < bytes; i += 4) if (load<u32>(a + i) != load<u32>(b + i)) return 0;
  return 1;
}
