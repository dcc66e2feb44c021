/**
 * Deno, as a script: explain one picture with the shapes model, print the
 * top 5, write the Grad-CAM overlay.
 *
 *   npx tsx tools/bundle.ts examples/deno/explain.ts out/deno-explain.mjs
 *   npx deno run --allow-read --allow-write out/deno-explain.mjs picture.png overlay.png [method]
 */
import weights from '../shapes/shapes-cnn.safetensors';
import { explainBytes } from '../explainer/explain-bytes.js';
import { shapesExplainable } from '../explainer/shapes.js';

declare const Deno: {
  args: string[];
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  exit(code: number): never;
};

const [input, output, method] = Deno.args;
if (!input || !output) {
  console.error('usage: deno run --allow-read --allow-write deno-explain.mjs <picture.png|jpg> <overlay.png> [method]');
  Deno.exit(2);
}
const { summary, png } = explainBytes(shapesExplainable(weights), await Deno.readFile(input), method);
await Deno.writeFile(output, png);
console.log(`${summary}\nwrote ${output}`);
