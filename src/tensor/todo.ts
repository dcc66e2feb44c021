/** Placeholder for ops being written; removed when every op exists. */
export function notImplemented(name: string, ..._args: unknown[]): never {
  throw new Error(`${name} is not implemented yet`);
}
