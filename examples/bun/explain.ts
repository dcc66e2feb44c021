/**
 * Bun, as a script: explain one picture with the shapes model, print the
 * top 5, write the Grad-CAM overlay.
 *
 *   npx tsx tools/bundle.ts examples/bun/explain.ts out/bun-explain.mjs
 *   npx bun out/bun-explain.mjs picture.png overlay.png [method]
 */
import weights from '../shapes/shapes-cnn.safetensors';
import { explainBytes } from '../explainer/explain-bytes.js';
import { shapesExplainable } from '../explainer/shapes.js';

declare const Bun: {
  argv: string[];
  file(path: string): { bytes(): Promise<Uint8Array> };
  write(path: string, data: Uint8Array): Promise<number>;
};

const [input, output, method] = Bun.argv.slice(2);
if (!input || !output) {
  console.error('usage: bun bun-explain.mjs <picture.png|jpg> <overlay.png> [method]');
  process.exit(2);
}
const { summary, png } = explainBytes(shapesExplainable(weights), await Bun.file(input).bytes(), method);
await Bun.write(output, png);
console.log(`${summary}\nwrote ${output}`);
