/** The one function of ndarray-ops we use (the package ships no types). */
declare module 'ndarray-ops' {
  import type { NdArray } from 'ndarray';
  /** Copy `source` into `destination` elementwise (same shape, any strides and dtypes). */
  export function assign(destination: NdArray, source: NdArray): NdArray;
}
