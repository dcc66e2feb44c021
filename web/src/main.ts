/**
 * The page: picks up pictures, models and labels (dropped, chosen or from
 * the samples), sends them to the worker, and draws what comes back: the
 * picture the model sees, the top 5, and one overlay per method, coloured
 * and blended by tinycam/image as the CLI does.
 */
import { Tensor } from 'tinycam';
import { COLORMAP_NAMES, detectImageFormat, encodePng, overlay, type ColormapName, type RgbaImage } from 'tinycam/image';
import { architectures } from 'tinycam/models';
import { METHODS } from '../../examples/explainer/pipeline.js';
import { sceneToImage } from '../../examples/shapes/data.js';
import { CLASSES, DEMO_SEED_BASE, generateScene } from '../../examples/shapes/generate.js';
import { SHAPES_ARCH } from './loaders.js';
import type { ModelInfo, ModelSource, NamedBytes, Picture, Ranked, Reply, Request } from './protocol.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const PHOTOS = [
  { file: 'chelsea.png', title: 'a cat' },
  { file: 'coffee.png', title: 'a cup of coffee' },
  { file: 'astronaut.png', title: 'an astronaut' },
  { file: 'rocket.jpg', title: 'a rocket' },
];
/** Methods checked at first: single-pass, so they run as soon as something changes. */
const DEFAULT_METHODS = ['gradcam'];

interface MapResult {
  map: Float32Array;
  width: number;
  height: number;
  target: number | null;
  layers: string[];
  ms: number;
}

const state = {
  info: null as ModelInfo | null,
  seen: null as Picture | null,
  original: null as { width: number; height: number } | null,
  top: [] as Ranked[],
  target: 0,
  labels: null as string[] | null,
  pictureName: '',
  results: new Map<string, MapResult>(),
  sceneSeed: DEMO_SEED_BASE,
  pending: new Set<number>(),
  /** The latest request of each kind; older answers are stale. */
  latest: { picture: 0, explain: 0 },
};

// ------------------------------------------------------------------ worker

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let nextId = 1;

function send(request: Omit<Request, 'id'> & Partial<Pick<Request, 'id'>>, transfer: Transferable[] = []): number {
  const id = nextId++;
  state.pending.add(id);
  document.body.dataset.state = 'busy';
  worker.postMessage({ ...request, id }, transfer);
  return id;
}

worker.onmessage = (event: MessageEvent<Reply>) => {
  const reply = event.data;
  switch (reply.type) {
    case 'model':
      showModel(reply.info);
      break;
    case 'prediction':
      if (reply.id >= state.latest.picture) showPrediction(reply.seen, reply.original, reply.top, reply.ms);
      break;
    case 'progress':
      if (reply.id === state.latest.explain) showProgress(reply.method, reply.done, reply.total);
      break;
    case 'map':
      if (reply.id === state.latest.explain) {
        state.results.set(reply.method, { map: reply.map, width: reply.width, height: reply.height, target: reply.target, layers: reply.layers, ms: reply.ms });
        renderResults();
      }
      break;
    case 'error':
      showMessage(reply.message, 'error', reply.unsupportedOps);
      break;
    case 'done':
      state.pending.delete(reply.id);
      if (reply.id === state.latest.explain) $('progress').hidden = true;
      if (state.pending.size === 0) document.body.dataset.state = 'ready';
      break;
  }
};
worker.onerror = (event) => showMessage(`the worker stopped: ${event.message}`, 'error');

// ------------------------------------------------------------------ messages

function showMessage(text: string, kind: 'error' | 'info', list?: string[]): void {
  const box = $('message');
  box.replaceChildren(text);
  if (list?.length) {
    const ul = document.createElement('ul');
    for (const item of list) ul.append(Object.assign(document.createElement('li'), { textContent: item }));
    box.append(ul);
  }
  box.className = kind;
  box.hidden = false;
}

function clearMessage(): void {
  $('message').hidden = true;
}

// ------------------------------------------------------------------ inputs

const extension = (name: string): string => name.toLowerCase().match(/\.[^.]+$/)?.[0] ?? '';
const MODEL_EXTENSIONS = new Set(['.onnx', '.safetensors', '.json']);
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
const OTHER_IMAGE_EXTENSIONS = new Set(['.gif', '.webp', '.bmp', '.avif', '.heic', '.tif', '.tiff', '.svg']);

/** Sorts dropped files into a picture, model files and labels; says plainly what it cannot use. */
async function takeFiles(list: FileList | File[]): Promise<void> {
  clearMessage();
  document.body.dataset.state = 'busy';
  const files = await Promise.all(Array.from(list).map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
  const isModelSet = files.some((f) => MODEL_EXTENSIONS.has(extension(f.name)));
  const images: NamedBytes[] = [];
  const model: NamedBytes[] = [];
  const refused: string[] = [];
  for (const f of files) {
    const ext = extension(f.name);
    if (detectImageFormat(f.bytes) || IMAGE_EXTENSIONS.has(ext)) images.push(f);
    else if (ext === '.txt') takeLabels(f);
    else if (isModelSet) model.push(f); // external data (.data, .bin, any name the .onnx gives) travels with the model
    else if (OTHER_IMAGE_EXTENSIONS.has(ext)) refused.push(`'${f.name}' is a picture this page cannot read: only PNG and JPEG are decoded (convert it first)`);
    else refused.push(`'${f.name}' is neither a picture (PNG, JPEG), a model (.onnx with its external data, .safetensors with an architecture), nor a labels .txt`);
  }
  if (refused.length) showMessage(refused.join('. '), 'error');
  if (model.length) loadModel({ kind: 'files', files: model, arch: ($('arch') as HTMLSelectElement).value || undefined } as ModelSource);
  const image = images[images.length - 1];
  if (image) setPicture(image);
  if (state.pending.size === 0) document.body.dataset.state = 'ready';
}

function takeLabels(file: NamedBytes): void {
  const lines = new TextDecoder().decode(file.bytes).split(/\r?\n/).map((l) => l.trim());
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  state.labels = lines;
  renderTop();
  renderResults();
}

function loadModel(source: ModelSource): void {
  const transfer = source.kind === 'files' ? source.files.map((f) => f.bytes.buffer) : [];
  state.latest.picture = send({ type: 'load-model', source, builtinUrl: new URL('models/shapes-cnn.safetensors', location.href).href } as Request, transfer);
}

function setPicture(image: NamedBytes): void {
  state.pictureName = image.name.replace(/\.[^.]+$/, '');
  state.latest.picture = send({ type: 'set-image', image } as Request);
}

function sceneSample(seed: number): NamedBytes {
  const scene = generateScene(seed);
  return { name: `scene-${seed}-${CLASSES[scene.label]}.png`, bytes: encodePng(sceneToImage(scene)) };
}

async function photoSample(file: string): Promise<void> {
  const response = await fetch(`samples/${file}`);
  if (!response.ok) return showMessage(`could not load the sample ${file} (${response.status})`, 'error');
  setPicture({ name: file, bytes: new Uint8Array(await response.arrayBuffer()) });
}

// ------------------------------------------------------------------ model and prediction

function labelOf(index: number): string {
  return state.labels?.[index] ?? state.info?.labels?.[index] ?? `class ${index}`;
}

function showModel(info: ModelInfo): void {
  state.info = info;
  $('model-name').textContent = `${info.name} — ${info.format}, input ${info.inputSize[1]}x${info.inputSize[0]}, ${info.classes} classes`;
  ($('normalization') as HTMLSelectElement).value = info.normalization;
  const select = $('layer') as HTMLSelectElement;
  select.replaceChildren(
    ...info.layers.map((l) => Object.assign(document.createElement('option'), { value: l.name, textContent: `${l.name}  ${l.type} [${l.shape.join(', ')}]`, selected: l.name === info.camLayer })),
  );
  $('layer-note').textContent = `${info.layers.length} layers with a spatial output${info.otherLayers ? `; ${info.otherLayers} others (vectors, 1x1) cannot be mapped` : ''}.`;
  ($('target') as HTMLInputElement).max = String(info.classes - 1);
}

function showPrediction(seen: Picture, original: { width: number; height: number }, top: Ranked[], ms: number): void {
  state.seen = seen;
  state.original = original;
  state.top = top;
  state.target = top[0]?.index ?? 0;
  state.results.clear();
  const canvas = $('seen') as HTMLCanvasElement;
  canvas.width = seen.width;
  canvas.height = seen.height;
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(seen.data), seen.width, seen.height), 0, 0);
  $('seen-size').textContent = `${state.pictureName}: ${original.width}x${original.height}, resized and centre-cropped to ${seen.width}x${seen.height}; predicted in ${ms.toFixed(0)} ms`;
  renderTop();
  explainNow(false);
}

function renderTop(): void {
  const list = $('top5');
  list.replaceChildren(
    ...state.top.map((t) => {
      const li = document.createElement('li');
      const button = Object.assign(document.createElement('button'), { type: 'button', className: t.index === state.target ? 'chosen' : '' });
      button.dataset.index = String(t.index);
      button.append(
        Object.assign(document.createElement('span'), { className: 'label', textContent: labelOf(t.index) }),
        Object.assign(document.createElement('span'), { className: 'score', textContent: `${(t.probability * 100).toFixed(1)} %` }),
      );
      button.style.setProperty('--p', String(t.probability));
      button.onclick = () => chooseTarget(t.index);
      li.append(button);
      return li;
    }),
  );
  ($('target') as HTMLInputElement).value = String(state.target);
}

function chooseTarget(index: number): void {
  if (!state.info || !Number.isInteger(index) || index < 0 || index >= state.info.classes) {
    showMessage(`the class index must be a whole number from 0 to ${(state.info?.classes ?? 1) - 1}`, 'error');
    return;
  }
  clearMessage();
  state.target = index;
  renderTop();
  explainNow(false);
}

// ------------------------------------------------------------------ explaining

function selectedMethods(): string[] {
  return Array.from(document.querySelectorAll<HTMLInputElement>('#methods input:checked'), (i) => i.value);
}

/** Runs the selected methods; `all` false leaves out the multi-pass ones (they wait for the button). */
function explainNow(all: boolean): void {
  if (!state.info || !state.seen) return;
  const methods = selectedMethods().filter((m) => all || !METHODS[m]!.multipass);
  state.results.clear();
  renderResults();
  if (!methods.length) return;
  const layer = ($('layer') as HTMLSelectElement).value;
  state.latest.explain = send({ type: 'explain', methods, layer, target: state.target } as Request);
}

function showProgress(method: string, done: number, total: number): void {
  const bar = $('progress') as HTMLProgressElement;
  bar.hidden = false;
  bar.max = total;
  bar.value = done;
  $('progress-text').textContent = `${METHODS[method]!.label}: ${done} / ${total} masked inputs scored`;
}

const blobUrls: string[] = [];

function renderResults(): void {
  const grid = $('results');
  for (const url of blobUrls.splice(0)) URL.revokeObjectURL(url);
  if (!state.seen) return grid.replaceChildren();
  const alpha = Number(($('opacity') as HTMLInputElement).value);
  const colormap = ($('colormap') as HTMLSelectElement).value as ColormapName;
  const cards = [...state.results].map(([method, r]) => {
    const picture = overlay(state.seen as RgbaImage, new Tensor(r.map, [r.height, r.width]), { alpha, colormap });
    const card = document.createElement('figure');
    card.className = 'card';
    card.dataset.method = method;
    const canvas = Object.assign(document.createElement('canvas'), { width: picture.width, height: picture.height });
    canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(picture.data), picture.width, picture.height), 0, 0);
    const url = URL.createObjectURL(new Blob([new Uint8Array(encodePng(picture))], { type: 'image/png' }));
    blobUrls.push(url);
    const link = Object.assign(document.createElement('a'), { href: url, download: `${state.pictureName}-${method}.png`, textContent: 'Download PNG', className: 'download' });
    const caption = document.createElement('figcaption');
    caption.append(
      Object.assign(document.createElement('strong'), { textContent: METHODS[method]!.label }),
      ` for ${r.target === null ? 'the chosen score' : labelOf(r.target)} at ${r.layers.join(', ')} (${r.ms.toFixed(0)} ms) `,
      link,
    );
    card.append(canvas, caption);
    return card;
  });
  grid.replaceChildren(...cards);
}

// ------------------------------------------------------------------ set up

function setUp(): void {
  const arch = $('arch') as HTMLSelectElement;
  arch.append(
    Object.assign(document.createElement('option'), { value: '', textContent: '(choose before dropping a .safetensors)' }),
    Object.assign(document.createElement('option'), { value: SHAPES_ARCH, textContent: `${SHAPES_ARCH} (the built-in model's layout)` }),
    ...Object.keys(architectures).map((name) => Object.assign(document.createElement('option'), { value: name, textContent: name })),
  );
  $('methods').replaceChildren(
    ...Object.entries(METHODS).map(([name, m]) => {
      const label = document.createElement('label');
      label.title = m.about;
      const box = Object.assign(document.createElement('input'), { type: 'checkbox', value: name, checked: DEFAULT_METHODS.includes(name) });
      box.onchange = () => explainNow(false);
      label.append(box, ` ${m.label}${m.multipass ? ' (several passes)' : ''}`);
      return label;
    }),
  );
  ($('colormap') as HTMLSelectElement).append(...COLORMAP_NAMES.map((name) => Object.assign(document.createElement('option'), { value: name, textContent: name })));
  $('samples').replaceChildren(
    ...PHOTOS.map((p) => {
      const button = Object.assign(document.createElement('button'), { type: 'button', title: p.title, className: 'sample' });
      button.append(Object.assign(document.createElement('img'), { src: `samples/${p.file}`, alt: p.title }));
      button.onclick = () => void photoSample(p.file);
      return button;
    }),
    // One generated scene of each class (consecutive demo seeds take the classes in turn).
    ...CLASSES.map((name, k) => {
      const seed = DEMO_SEED_BASE + 10 + k;
      const scene = generateScene(seed, { label: k });
      const button = Object.assign(document.createElement('button'), { type: 'button', title: `a generated ${name}`, className: 'sample' });
      const canvas = Object.assign(document.createElement('canvas'), { width: scene.width, height: scene.height });
      canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(sceneToImage(scene).data), scene.width, scene.height), 0, 0);
      button.append(canvas);
      button.onclick = () => setPicture({ name: `scene-${seed}-${name}`, bytes: encodePng(sceneToImage(scene)) });
      return button;
    }),
  );

  $('scene').onclick = () => setPicture(sceneSample(++state.sceneSeed));
  $('builtin').onclick = () => loadModel({ kind: 'builtin' });
  $('explain').onclick = () => explainNow(true);
  $('layer').onchange = () => explainNow(false);
  $('target').onchange = () => chooseTarget(Number(($('target') as HTMLInputElement).value));
  ($('normalization') as HTMLSelectElement).onchange = (e) =>
    (state.latest.picture = send({ type: 'configure', normalization: (e.target as HTMLSelectElement).value } as Request));
  $('opacity').oninput = () => {
    $('opacity-value').textContent = Number(($('opacity') as HTMLInputElement).value).toFixed(2);
    renderResults();
  };
  $('colormap').onchange = () => renderResults();
  const input = $('files') as HTMLInputElement;
  input.onchange = () => {
    if (input.files?.length) void takeFiles(input.files);
    input.value = '';
  };
  // The whole window takes drops; the drop zone shows where.
  const zone = $('drop');
  window.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  window.addEventListener('dragleave', () => zone.classList.remove('over'));
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer?.files.length) void takeFiles(e.dataTransfer.files);
  });

  loadModel({ kind: 'builtin' });
  setPicture(sceneSample(state.sceneSeed));
}

/** Read-only access for the browser tests and the console: what the page computed. */
Object.assign(globalThis, {
  tinycamPage: {
    model: () => state.info,
    top: () => state.top.map((t) => ({ ...t, label: labelOf(t.index) })),
    target: () => state.target,
    seen: () => (state.seen ? { width: state.seen.width, height: state.seen.height, data: [...state.seen.data] } : null),
    results: () =>
      Object.fromEntries([...state.results].map(([method, r]) => [method, { width: r.width, height: r.height, target: r.target, layers: r.layers, map: [...r.map] }])),
  },
});

setUp();
