/**
 * A Vercel Edge Function: POST a PNG or JPEG, get the top-5 and the Grad-CAM
 * overlay as JSON (?format=png for the PNG itself). The shapes model's
 * weights are embedded in the bundle (examples/vercel-edge/build.ts).
 */
import weights from '../../shapes/shapes-cnn.safetensors';
import { createHandler } from '../../explainer/handler.js';
import { shapesExplainable } from '../../explainer/shapes.js';

export const config = { runtime: 'edge' };

// Deployed, the function answers at /api/explain; edge-runtime on your machine serves it at /explain too.
const handle = createHandler({ subject: () => shapesExplainable(weights), paths: ['/api/explain', '/explain'] });

export default function handler(request: Request): Promise<Response> {
  return handle(request);
}
