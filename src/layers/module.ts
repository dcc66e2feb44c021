import { record } from '../tensor/autograd.js';
import { ArgumentError, StateDictError, typeNameOf } from '../tensor/errors.js';
import { Parameter, Tensor, sameShape, shapeString } from '../tensor/tensor.js';

/** Sees a module's inputs and output; may return a tensor to use as the output instead. */
export type ForwardHook = (module: Module, inputs: readonly Tensor[], output: Tensor) => Tensor | void;

/** Runs before a module's forward with its inputs; may return replacement inputs (PyTorch's forward pre-hook). */
export type ForwardPreHook = (module: Module, inputs: readonly Tensor[]) => Tensor[] | void;

/**
 * Sees d score / d (module output) during backward; may return a tensor to
 * use as that gradient instead (same shape).
 */
export type BackwardHook = (module: Module, gradOutput: Tensor) => Tensor | void;

/** Returned by the `register*Hook` methods; `remove()` detaches the hook (idempotent). */
export interface HookHandle {
  remove(): void;
}

export type StateDict = Record<string, Tensor>;

/**
 * One output of a model as the CAM methods see it (`Module.forwardOutputs`).
 * A model whose last step on an output is a softmax or log-softmax over the
 * classes says so, and gives the tensor before it: the methods explain those
 * logits by default, as the score of a classifier is its pre-softmax logit.
 */
export interface ModelOutput {
  /** 'output' for a module with one output; a graph's own output name otherwise. */
  name: string;
  /** What the model returns for this output. */
  value: Tensor;
  /** The tensor the final softmax / log-softmax was applied to, when there is one. */
  logits?: Tensor;
  /** Which function turned `logits` into `value`. */
  activation?: 'softmax' | 'logSoftmax';
}

/**
 * The base of every layer and model, as `torch.nn.Module`.
 *
 * Children and parameters are found from the module's own properties, in the
 * order they were assigned (as PyTorch's `__setattr__` registers them):
 * `this.conv1 = new Conv2d(...)` makes a child named `conv1`, and
 * `this.weight = new Parameter(...)` a parameter named `weight`. Containers
 * add children under explicit names with `addModule` (Sequential's '0', '1'…).
 * Buffers (running statistics) are registered with `registerBuffer`.
 *
 * `forward` is what subclasses implement, and what callers call: the base
 * constructor wraps the subclass's `forward` so that every call runs the
 * module's hooks, as calling a PyTorch module does.
 *
 * Two consequences of TypeScript class fields (ES2022 semantics): a field
 * declared in a subclass exists from the moment that subclass's fields are
 * initialised, so children and parameters are ordered by field *declaration*
 * (declare `weight` before `bias`); use `declare` for a field that should
 * only appear when assigned. And `forward` must be a method, not an arrow
 * function field, or it replaces the hooked wrapper.
 */
export abstract class Module {
  /** See `typeName`; every tinycam class sets its own. */
  static readonly typeName: string = 'Module';
  /** Whether the module is in training mode (`train()`) or evaluation mode (`eval()`). */
  training = true;

  // Explicitly added children (containers, graph modules), kept apart from
  // property-discovered ones so that names like '0' keep insertion order.
  readonly #added = new Map<string, Module>();
  // Names of buffers; their values live in the properties of the same name,
  // so reassigning `this.running_mean` is seen everywhere. A null value is a
  // registered but absent buffer (BatchNorm without running statistics),
  // which, as in PyTorch, stays out of the state dict.
  readonly #buffers = new Set<string>();
  readonly #forwardPreHooks = new Map<number, ForwardPreHook>();
  readonly #forwardHooks = new Map<number, ForwardHook>();
  readonly #backwardHooks = new Map<number, BackwardHook>();
  #nextHookId = 0;

  abstract forward(...inputs: Tensor[]): Tensor;

  constructor() {
    // `this.forward` is the subclass's method here: the prototype chain is in
    // place before any constructor body runs.
    const implementation = this.forward;
    Object.defineProperty(this, 'forward', {
      value: (...inputs: Tensor[]) => this.callWithHooks(implementation, inputs),
      enumerable: false,
      writable: true,
      configurable: true,
    });
  }

  /**
   * The module's type name, as PyTorch prints it (Conv2d, Sequential…): the
   * class's own `static readonly typeName` (tinycam's classes declare one,
   * because minifiers rename classes), else the constructor's name.
   */
  get typeName(): string {
    return typeNameOf(this.constructor);
  }

  private callWithHooks(implementation: (...inputs: Tensor[]) => Tensor, inputs: Tensor[]): Tensor {
    for (const hook of [...this.#forwardPreHooks.values()]) {
      const replaced = hook(this, inputs);
      if (replaced !== undefined) inputs = replaced;
    }
    let output = implementation.apply(this, inputs);
    for (const hook of [...this.#forwardHooks.values()]) {
      const replaced = hook(this, inputs, output);
      if (replaced !== undefined) output = replaced;
    }
    if (this.#backwardHooks.size > 0 && output.requiresGrad) output = this.attachBackwardHooks(output);
    return output;
  }

  /**
   * An identity op whose backward rule runs the backward hooks: the hooks see
   * the gradient of the module's output as it passes (PyTorch's BackwardHook).
   */
  private attachBackwardHooks(output: Tensor): Tensor {
    // The hooks registered at forward time run, unless removed since: a
    // remove() in a `finally` takes effect even for a graph built earlier.
    const hooks = [...this.#backwardHooks.entries()];
    const passthrough = new Tensor(output.data, output.shape);
    return record('backwardHook', passthrough, [output], (g) => {
      let gradient = g;
      for (const [id, hook] of hooks) {
        if (!this.#backwardHooks.has(id)) continue;
        const replaced = hook(this, gradient);
        if (replaced !== undefined) {
          if (!sameShape(replaced.shape, gradient.shape)) {
            throw new ArgumentError(
              `backward hook on ${this.typeName} returned shape ${shapeString(replaced.shape)}; the gradient has shape ${shapeString(gradient.shape)}`,
            );
          }
          gradient = replaced;
        }
      }
      return [gradient];
    }, { tangent: ([d]) => d! });
  }

  /** Run `hook(module, inputs)` before every forward call until removed. */
  registerForwardPreHook(hook: ForwardPreHook): HookHandle {
    const id = this.#nextHookId++;
    this.#forwardPreHooks.set(id, hook);
    return { remove: () => void this.#forwardPreHooks.delete(id) };
  }

  /** Run `hook(module, inputs, output)` after every forward call until removed. */
  registerForwardHook(hook: ForwardHook): HookHandle {
    const id = this.#nextHookId++;
    this.#forwardHooks.set(id, hook);
    return { remove: () => void this.#forwardHooks.delete(id) };
  }

  /** Run `hook(module, gradOutput)` when the gradient of this module's output is known. */
  registerBackwardHook(hook: BackwardHook): HookHandle {
    const id = this.#nextHookId++;
    this.#backwardHooks.set(id, hook);
    return { remove: () => void this.#backwardHooks.delete(id) };
  }

  /**
   * The layer CAM methods explain when the caller names none (tinycam/models'
   * architectures set it: 'layer4' for a ResNet). Undefined: the CAM code
   * picks one by torch-cam's rule.
   */
  declare readonly camLayer?: string;

  /**
   * Where the channels of the model's image input are: 'NCHW' (PyTorch,
   * ONNX; what an unset value means) or 'NHWC' (TensorFlow.js models take
   * NHWC tensors). The CAM methods read the input's height and width by it;
   * activations at hooked layers are [N, C, h, w] either way.
   */
  declare readonly inputLayout?: 'NCHW' | 'NHWC';

  /**
   * Every output of one forward pass, for the CAM methods. A module with one
   * output returns it as 'output'; graph modules (ONNX, TensorFlow.js) return
   * each graph output by name, with the logits before a final softmax.
   */
  forwardOutputs(...inputs: Tensor[]): ModelOutput[] {
    return [{ name: 'output', value: this.forward(...inputs) }];
  }

  /**
   * The largest batch `forward` accepts, or undefined when any size runs.
   * Methods that batch extra inputs (Score-CAM, Ablation-CAM) stay within it;
   * an ONNX graph exported with a fixed batch (the model zoo's [1,3,224,224]) sets it.
   */
  maxBatchSize(): number | undefined {
    return undefined;
  }

  /**
   * Whether this module's forward, while nothing records a gradient and no
   * hook is registered in it, returns a buffer that no one else holds and
   * keeps no reference to its inputs. A container may then give a buffer
   * that passed between two such modules back to the pool for the next
   * activation (layers/recycling.ts). False unless a class knows better;
   * the classes that say true check that they are exactly themselves, so a
   * subclass with its own forward is false again.
   */
  isolatedForward(): boolean {
    return false;
  }

  /** Number of hooks currently registered on this module (not its children). */
  hookCount(): number {
    return this.#forwardPreHooks.size + this.#forwardHooks.size + this.#backwardHooks.size;
  }

  // ---------------------------------------------------------------- children

  /** Add a child under an explicit name (containers use '0', '1', …). */
  addModule(name: string, module: Module): Module {
    if (!name || name.includes('.')) {
      throw new ArgumentError(`addModule: child name '${name}' must be non-empty and contain no '.'`);
    }
    this.#added.set(name, module);
    return module;
  }

  /**
   * Register a tensor that is state but not a parameter (e.g. BatchNorm's
   * running_mean). Buffers are in the state dict but not in `parameters()`.
   * `null` registers the name without a tensor (left out of the state dict).
   */
  registerBuffer(name: string, value: Tensor | null): void {
    if (!name || name.includes('.')) {
      throw new ArgumentError(`registerBuffer: buffer name '${name}' must be non-empty and contain no '.'`);
    }
    if (value instanceof Parameter) {
      throw new ArgumentError(`registerBuffer: '${name}' is a Parameter; assign it as a property to make it a parameter, or pass a plain Tensor`);
    }
    this.#buffers.add(name);
    (this as unknown as Record<string, unknown>)[name] = value;
  }

  /** Direct children with their names, in registration order. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const key of Object.keys(this)) {
      const value = (this as unknown as Record<string, unknown>)[key];
      if (value instanceof Module) out.push([key, value]);
    }
    for (const entry of this.#added) out.push(entry);
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /**
   * This module and all below it with PyTorch's dotted names ('' is the
   * module itself, then e.g. 'layer4', 'layer4.1', 'layer4.1.conv2').
   * A module reachable twice is listed once, as PyTorch does.
   */
  namedModules(prefix = '', seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) {
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name, seen));
    }
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * The module at a dotted path, or undefined. A child's own name may hold
   * dots (an ONNX graph's layers are 'layer4.1' or 'input.4'): the child
   * whose name is the path, else the children whose name and a dot start
   * it, longest first, each resolving the rest itself, so a path that
   * namedModules lists always resolves, also inside a wrapper module.
   */
  getModule(path: string): Module | undefined {
    if (path === '') return this;
    const children = this.namedChildren();
    const exact = children.find(([n]) => n === path);
    if (exact) return exact[1];
    const prefixed = children.filter(([n]) => path.startsWith(`${n}.`)).sort((a, b) => b[0].length - a[0].length);
    for (const [name, child] of prefixed) {
      const found = child.getModule(path.slice(name.length + 1));
      if (found) return found;
    }
    return undefined;
  }

  /** Parameters owned by this module itself (not children), in assignment order. */
  namedOwnParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const key of Object.keys(this)) {
      const value = (this as unknown as Record<string, unknown>)[key];
      if (value instanceof Parameter && !this.#buffers.has(key)) out.push([key, value]);
    }
    return out;
  }

  /** All parameters with dotted names ('layer4.1.conv2.weight'). */
  namedParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.namedOwnParameters()) out.push([prefix ? `${prefix}.${name}` : name, p]);
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** All buffers with dotted names. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const name of m.#buffers) {
        const t = (m as unknown as Record<string, unknown>)[name];
        if (t instanceof Tensor) out.push([prefix ? `${prefix}.${name}` : name, t]);
      }
    }
    return out;
  }

  // ------------------------------------------------------------------- modes

  /** Set training mode on this module and every module below it. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Set evaluation mode (BatchNorm uses running statistics, Dropout passes through). */
  eval(): this {
    return this.train(false);
  }

  // ------------------------------------------------------------- state dict

  /** Parameters and buffers by dotted name, sharing data with the module. */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [name, p] of this.namedParameters()) out[name] = p;
    for (const [name, b] of this.namedBuffers()) out[name] = b;
    return out;
  }

  /**
   * Copy values from `dict` into parameters and buffers. With `strict`
   * (default) missing keys, unexpected keys and shape mismatches are all
   * reported in one StateDictError; on any error nothing is changed.
   * Returns the missing and unexpected keys (non-strict mode may have some).
   */
  loadStateDict(dict: StateDict, options: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    checkStateDictArgument(dict);
    const strict = options?.strict ?? true;
    const own = this.stateDict();
    // Own keys only: a key such as 'constructor' must not be found on a prototype.
    const missing = Object.keys(own).filter((k) => !Object.hasOwn(dict, k));
    const unexpected = Object.keys(dict).filter((k) => !Object.hasOwn(own, k));
    const mismatched: { key: string; expected: number[]; got: number[] }[] = [];
    const notTensors: string[] = [];
    // Every value is read once and checked before anything is written, so a
    // getter or a tensor whose data does not fit cannot fail half-way.
    const sources = new Map<Tensor, Tensor>();
    for (const [key, target] of Object.entries(own)) {
      if (!Object.hasOwn(dict, key)) continue;
      const source = readStateDictValue(dict, key);
      if (!(source instanceof Tensor) || !(source.data instanceof Float32Array)) {
        notTensors.push(key);
        continue;
      }
      // A scalar buffer such as num_batches_tracked may come as [] or [1].
      const compatible = sameShape(source.shape, target.shape) || (source.size === 1 && target.size === 1);
      if (!compatible || source.data.length !== target.data.length) mismatched.push({ key, expected: [...target.shape], got: [...source.shape] });
      else sources.set(target, source);
    }
    const problems: string[] = [];
    if (notTensors.length) problems.push(`not tensors: ${notTensors.join(', ')}`);
    if (mismatched.length) {
      problems.push(
        `shape mismatch for ${mismatched.map((m) => `${m.key} (model ${shapeString(m.expected)}, dict ${shapeString(m.got)})`).join(', ')}`,
      );
    }
    if (strict && missing.length) problems.push(`missing keys: ${missing.join(', ')}`);
    if (strict && unexpected.length) problems.push(`unexpected keys: ${unexpected.join(', ')}`);
    if (problems.length) {
      throw new StateDictError(`loadStateDict: ${problems.join('; ')}. Nothing was loaded.`, {
        missing: strict ? missing : [],
        unexpected: strict ? unexpected : [],
        mismatched,
      });
    }
    for (const [target, source] of sources) target.data.set(source.data);
    return { missing, unexpected };
  }

  // ------------------------------------------------------------ utilities

  /** Call `fn` on every module below this one and then on this one (PyTorch's `apply`, children first). */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /** Freeze (`false`) or unfreeze (`true`) every parameter: frozen ones get no gradient in `backward()`. */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad = requiresGrad;
    return this;
  }

  /** Forget the gradients accumulated by `backward()` (sets every parameter's `grad` to null, as PyTorch's default). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Number of parameter elements (each shared parameter counted once); only trainable ones if asked. */
  parameterCount(options: { trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const p of new Set(this.parameters())) if (!options.trainableOnly || p.requiresGrad) n += p.size;
    return n;
  }

  /** The hyper-parameters shown in `toString()` (PyTorch's `extra_repr`), e.g. '3, 16, kernel_size=(3, 3)'. */
  extraRepr(): string {
    return '';
  }

  /** The module tree as PyTorch prints it: `Sequential(\n  (0): Conv2d(3, 16, ...)\n)`. */
  toString(): string {
    const children = this.namedChildren();
    const extra = this.extraRepr();
    if (!children.length) return `${this.typeName}(${extra})`;
    const lines = extra ? [extra] : [];
    for (const [name, child] of children) lines.push(`(${name}): ${child.toString()}`);
    const body = lines.map((l) => l.split('\n').map((x) => `  ${x}`).join('\n')).join('\n');
    return `${this.typeName}(\n${body}\n)`;
  }
}

/** loadStateDict's argument must be a record of tensors by name; anything else is a typed error, not a TypeError. */
function checkStateDictArgument(dict: unknown): asserts dict is StateDict {
  if (typeof dict === 'object' && dict !== null && !Array.isArray(dict) && !(dict instanceof Map) && !(dict instanceof Tensor)) return;
  const got = dict === null ? 'null' : Array.isArray(dict) ? 'an array' : dict instanceof Map ? 'a Map (pass Object.fromEntries(map))' : dict instanceof Tensor ? 'a Tensor' : typeof dict;
  throw new StateDictError(`loadStateDict: expected a record of tensors by name (as stateDict() or loadSafetensors() give), got ${got}. Nothing was loaded.`);
}

/** dict[key], with a throwing getter turned into a typed error (before anything was written). */
function readStateDictValue(dict: StateDict, key: string): unknown {
  try {
    return dict[key];
  } catch (e) {
    const error = new StateDictError(`loadStateDict: reading '${key}' from the dict threw ${e instanceof Error ? e.name : typeof e}. Nothing was loaded.`);
    error.cause = e;
    throw error;
  }
}
