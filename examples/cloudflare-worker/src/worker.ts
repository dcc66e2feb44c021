/**
 * A Cloudflare Worker (ES module syntax) that explains an uploaded picture
 * with the shapes model: POST /explain with a PNG or JPEG, get the top-5 and
 * the Grad-CAM overlay (PNG, base64) as JSON, or ?format=png for the PNG.
 * The weights are a Data module (wrangler.toml's rules), bundled with the
 * worker; the model is built at the first request and kept while the
 * isolate lives.
 */
import weights from '../../shapes/shapes-cnn.safetensors';
import { createHandler } from '../../explainer/handler.js';
import { shapesExplainable } from '../../explainer/shapes.js';

const handle = createHandler({ subject: () => shapesExplainable(weights) });

export default {
  fetch(request: Request): Promise<Response> {
    return handle(request);
  },
};
