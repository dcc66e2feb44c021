/**
 * Model weights imported as modules: esbuild's binary loader gives a
 * Uint8Array (tools/bundle.ts), Cloudflare's Data modules an ArrayBuffer.
 */
declare module '*.safetensors' {
  const bytes: Uint8Array | ArrayBuffer;
  export default bytes;
}
