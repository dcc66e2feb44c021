import { TinycamError } from '../tensor/errors.js';

/** A malformed, truncated or unsupported ONNX file (says where decoding failed). */
export class OnnxError extends TinycamError {
  static override readonly typeName: string = 'OnnxError';
  constructor(message: string, code = 'E_ONNX') {
    super(code, message);
  }
}

/** One op type the importer cannot run, with the names of the nodes that use it. */
export interface UnsupportedOp {
  opType: string;
  domain: string;
  nodes: string[];
  /** Set when the op is supported but not in the form these nodes use (e.g. MaxPool's Indices output). */
  detail?: string;
}

/**
 * The graph uses ops the importer does not implement. Raised at load time,
 * listing every unsupported op type at once, before anything is built.
 */
export class OnnxUnsupportedError extends OnnxError {
  static override readonly typeName: string = 'OnnxUnsupportedError';
  readonly unsupported: UnsupportedOp[];
  constructor(unsupported: UnsupportedOp[], supported: readonly string[]) {
    const list = unsupported
      .map((u) => {
        const shown = u.nodes.slice(0, 5).map((n) => `'${n}'`).join(', ');
        const more = u.nodes.length > 5 ? ` and ${u.nodes.length - 5} more` : '';
        const what = `${u.domain ? `${u.domain}.` : ''}${u.opType}${u.detail ? ` with ${u.detail}` : ''}`;
        return `${what} (node${u.nodes.length > 1 ? 's' : ''} ${shown}${more})`;
      })
      .join('; ');
    super(
      `loadOnnx: the graph uses ${unsupported.length} unsupported op type${unsupported.length > 1 ? 's' : ''}: ${list}. ` +
        `Supported ops (default domain, opsets up to 21): ${supported.join(', ')}`,
      'E_ONNX_UNSUPPORTED',
    );
    this.unsupported = unsupported;
  }
}
