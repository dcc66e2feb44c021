import { TinycamError } from '../tensor/errors.js';

/**
 * A model.json or weight data that tinycam cannot load: malformed JSON
 * structure ('E_TFJS'), weight bytes that are short, missing or disagree with
 * the topology ('E_TFJS_WEIGHTS'), classes or ops it does not run
 * ('E_TFJS_UNSUPPORTED'). The message says what was wrong and what is accepted.
 */
export class TfjsError extends TinycamError {
  static override readonly typeName: string = 'TfjsError';
  constructor(message: string, code = 'E_TFJS') {
    super(code, message);
  }
}

/** One layer class or op the importer cannot run, with the layers or nodes that use it. */
export interface UnsupportedClass {
  /** The Keras class name ('Lambda') or GraphDef op ('NonMaxSuppressionV5'). */
  name: string;
  /** Names of the layers or nodes that use it. */
  users: string[];
  /** Set when the class is supported but not in the form these users ask for. */
  detail?: string;
}

/**
 * The model uses layer classes (layers models) or ops (graph models) that
 * tinycam does not run. Raised at load time, before anything is built,
 * listing every one at once.
 */
export class TfjsUnsupportedError extends TfjsError {
  static override readonly typeName: string = 'TfjsUnsupportedError';
  readonly unsupported: UnsupportedClass[];
  constructor(kind: 'layer class' | 'op', unsupported: UnsupportedClass[], supported: readonly string[]) {
    const list = unsupported
      .map((u) => {
        const shown = u.users.slice(0, 5).map((n) => `'${n}'`).join(', ');
        const more = u.users.length > 5 ? ` and ${u.users.length - 5} more` : '';
        return `${u.name}${u.detail ? ` with ${u.detail}` : ''} (${shown}${more})`;
      })
      .join('; ');
    const plural = unsupported.length > 1 ? (kind === 'op' ? 'ops' : 'layer classes') : kind;
    super(
      `loadTfjsModel: the model uses ${unsupported.length} unsupported ${plural}: ${list}. Supported: ${supported.join(', ')}`,
      'E_TFJS_UNSUPPORTED',
    );
    this.unsupported = unsupported;
  }
}
