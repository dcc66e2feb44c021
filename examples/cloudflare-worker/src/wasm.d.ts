/** `*.wasm` imports: a compiled WebAssembly.Module on Cloudflare Workers (wrangler's CompiledWasm rule) and Vercel Edge. */
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
