/**
 * Running tinycam in other JavaScript runtimes from a test: find the
 * runtime's binary (npm devDependencies: workerd, edge-runtime, deno, bun;
 * Debian's chromium), bundle a script with tinycam's entry points from
 * source (tools/bundle.ts), start the runtime as a server on a free port of
 * 127.0.0.1, wait until it answers, and always stop it by its process id.
 *
 *   describeRuntime('workerd', 'the worker in workerd', () => {
 *     let server: Started;
 *     beforeAll(async () => { server = await startWorkerd({ modules: [...] }); });
 *     afterAll(() => server?.stop());
 *     it('answers', async () => { await fetch(`${server.url}/`) ... });
 *   });
 *
 * A suite whose runtime is missing on this machine is skipped with one line
 * naming it (CI installs them all, so there they run).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

export { bundle, type BundleOptions } from '../../tools/bundle.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'node_modules');

export type RuntimeName = 'node' | 'workerd' | 'edge-runtime' | 'deno' | 'bun' | 'chromium';

/** Where each runtime may be: the package's own binary first, then its launcher, then the system's. */
const CANDIDATES: Record<RuntimeName, () => string[]> = {
  node: () => [process.execPath],
  workerd: () => [join(BIN, '@cloudflare/workerd-linux-64/bin/workerd'), join(BIN, 'workerd/bin/workerd')],
  'edge-runtime': () => [join(BIN, 'edge-runtime/dist/cli/index.js')],
  deno: () => [join(BIN, 'deno/deno'), join(BIN, '@deno/linux-x64-glibc/deno')],
  bun: () => [join(BIN, '@oven/bun-linux-x64/bin/bun'), join(BIN, 'bun/bin/bun.exe')],
  chromium: () => [process.env.CHROMIUM_PATH ?? '', '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean),
};

const found = new Map<RuntimeName, string | null>();

/** The runtime's executable if it is here and runs (`--version` answers), else null. */
export function runtimeBinary(name: RuntimeName): string | null {
  if (found.has(name)) return found.get(name)!;
  let result: string | null = null;
  for (const candidate of CANDIDATES[name]()) {
    if (!existsSync(candidate)) continue;
    const [cmd, args] = candidate.endsWith('.js') ? [process.execPath, [candidate, '--help']] : [candidate, ['--version']];
    const run = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NO_COLOR: '1' } });
    if (run.status === 0) {
      result = candidate;
      break;
    }
  }
  found.set(name, result);
  return result;
}

/**
 * A describe block that needs a runtime: skipped with one line when the
 * runtime is not on this machine, except in CI (CI=true), which installs
 * them all, where a missing runtime is a failure rather than a silent skip.
 */
export function describeRuntime(name: RuntimeName, title: string, body: () => void): void {
  if (runtimeBinary(name)) {
    describe(title, body);
    return;
  }
  const why = `needs ${name}, which is not installed here (npm ci installs workerd, edge-runtime, deno and bun; .ci/run installs Debian's chromium)`;
  describe(title, () => {
    if (process.env.CI) it(why, () => expect.fail(`CI installs ${name}, but it is missing or does not run`));
    else it.skip(why, () => {});
  });
}

/** A port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** A scratch folder removed with `remove()`. */
export function scratchDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `tinycam-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Runs `start` in a fresh scratch folder: the server's stop() also removes
 * the folder, and so does a start that fails.
 */
export async function startInScratch<T extends Started>(prefix: string, start: (dir: string) => Promise<T>): Promise<T> {
  const dir = scratchDir(prefix);
  try {
    const server = await start(dir.path);
    return {
      ...server,
      stop: async () => {
        await server.stop();
        dir.remove();
      },
    };
  } catch (e) {
    dir.remove();
    throw e;
  }
}

export interface Started {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  pid: number;
  /** Milliseconds from spawn until the server first answered. */
  startupMs: number;
  /** What the process printed so far (stdout and stderr). */
  output(): string;
  /** Kills the process group by its id and waits for the exit. Safe to call twice. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the runtime and anything it started
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}
// Whatever happens to the test process, no runtime outlives it.
process.once('exit', () => {
  for (const child of running) killGroup(child);
});

export interface ServerSpec {
  command: string;
  args: string[];
  port: number;
  cwd?: string;
  env?: Record<string, string>;
  /** Path requested until the server answers (any HTTP status counts). Default '/'. */
  readyPath?: string;
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
}

/** Starts a server process in its own process group and resolves once it answers HTTP on 127.0.0.1:port. */
export async function startServer(spec: ServerSpec): Promise<Started> {
  const started = performance.now();
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so stop() reaches its children too
  });
  running.add(child);
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async (): Promise<void> => {
    killGroup(child);
    await exited;
    running.delete(child);
  };
  const url = `http://127.0.0.1:${spec.port}`;
  const deadline = started + (spec.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      running.delete(child);
      throw new Error(`${spec.command} exited (${child.exitCode ?? child.signalCode}) before answering:\n${log}`);
    }
    try {
      const response = await fetch(`${url}${spec.readyPath ?? '/'}`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      break;
    } catch {
      if (performance.now() > deadline) {
        await stop();
        throw new Error(`${spec.command} did not answer on ${url} within ${spec.timeoutMs ?? 30_000} ms:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url, port: spec.port, pid: child.pid!, startupMs: performance.now() - started, output: () => log, stop };
}

export interface WorkerdModule {
  /** The name the worker imports it by ('worker.mjs', 'shapes-cnn.safetensors'). */
  name: string;
  /** File to embed. */
  path: string;
  /** esModule (the first is the entry), data (ArrayBuffer), wasm (WebAssembly.Module), text. */
  kind: 'esModule' | 'data' | 'wasm' | 'text';
}

export interface WorkerdSpec {
  modules: WorkerdModule[];
  compatibilityDate?: string;
  compatibilityFlags?: string[];
  timeoutMs?: number;
  readyPath?: string;
}

/**
 * Starts workerd (Cloudflare's runtime, the one `wrangler dev` runs) serving
 * one ES-module worker on 127.0.0.1, from a config written the way wrangler
 * would: the modules as given, embedded from their files.
 */
export async function startWorkerd(spec: WorkerdSpec): Promise<Started & { configDir: string }> {
  const bin = runtimeBinary('workerd');
  if (!bin) throw new Error('workerd is not installed (npm ci installs it)');
  const port = await freePort();
  return startInScratch('workerd', async (dir) => {
  // workerd embeds files by paths relative to the config: copy each in under its own name.
  const modules = spec.modules
    .map((m, i) => {
      const local = `module-${i}-${basename(m.path)}`;
      copyFileSync(m.path, join(dir, local));
      return `(name = ${JSON.stringify(m.name)}, ${m.kind} = embed ${JSON.stringify(local)})`;
    })
    .join(',\n      ');
  const flags = (spec.compatibilityFlags ?? []).map((f) => JSON.stringify(f)).join(', ');
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
      ${modules}
  ],
  compatibilityDate = "${spec.compatibilityDate ?? '2025-09-01'}",
  compatibilityFlags = [${flags}],
);
`;
  const configFile = join(dir, 'config.capnp');
  writeFileSync(configFile, config);
  const server = await startServer({
    command: bin,
    args: ['serve', configFile, '--verbose'],
    port,
    cwd: dir,
    timeoutMs: spec.timeoutMs ?? 30_000,
    ...(spec.readyPath ? { readyPath: spec.readyPath } : {}),
  });
  return { ...server, configDir: dir };
  });
}

export interface RawRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /**
   * Send only the first `partial` bytes of the body (Content-Length still
   * says the whole), then wait for the answer: how a server refuses an
   * oversized upload from its header is tested without a client that is
   * still writing when the server closes (EPIPE).
   */
  partial?: number;
}

export interface RawAnswer {
  status: number;
  /** The body as text (UTF-8). */
  body: string;
  bytes: Uint8Array;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * One HTTP request with node:http that settles on the server's answer even
 * when the server answers before the body is sent and closes the connection
 * (a 413 for an oversized upload): the client's write errors after an
 * answer are expected then, and ignored. Fails after 15 s without one.
 */
export function rawRequest(url: string, options: RawRequest = {}): Promise<RawAnswer> {
  return new Promise((resolveAnswer, reject) => {
    const target = new URL(options.path ?? '/explain', url);
    let answered = false;
    const body = options.body;
    // A new connection each time (agent: false): no keep-alive socket that the server may have closed meanwhile.
    const req = httpRequest(target, {
      method: options.method ?? 'POST',
      // Content-Length unless the caller streams the body chunked.
      headers: { ...(body && !options.headers?.['transfer-encoding'] ? { 'content-length': String(body.length) } : {}), ...options.headers },
      timeout: 30_000,
      agent: false,
    });
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      const done = () => {
        const bytes = new Uint8Array(Buffer.concat(chunks));
        resolveAnswer({ status: res.statusCode ?? 0, bytes, body: new TextDecoder().decode(bytes), headers: res.headers });
        if (options.partial !== undefined) req.destroy();
      };
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', done);
      res.on('error', done);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${target.href} within 30 s`)));
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    if (body && options.partial !== undefined) req.write(body.subarray(0, options.partial));
    else if (body) req.end(body);
    else req.end();
  });
}

/** Sends `count` requests made by `make(i)` one after another (a bounded loop), returning their statuses and bodies. */
export async function sendSequentially(url: string, count: number, make: (i: number) => RawRequest): Promise<{ status: number; body: string }[]> {
  const out: { status: number; body: string }[] = [];
  for (let i = 0; i < count; i++) {
    const { status, body } = await rawRequest(url, make(i));
    out.push({ status, body });
  }
  return out;
}

/** Chromium's flags for a headless run as root on a machine with no network but loopback. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox', // as root; the page is our own
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--mute-audio',
];

/**
 * Debian's chromium driven by puppeteer-core, with a fresh profile. `stop()`
 * closes it and, if it has not gone within 5 s, kills its process group.
 */
export async function launchChromium(): Promise<{ browser: import('puppeteer-core').Browser; pid: number; stop: () => Promise<void> }> {
  const bin = runtimeBinary('chromium');
  if (!bin) throw new Error('chromium is not installed (.ci/run installs it with apt-get)');
  const { default: puppeteer } = await import('puppeteer-core');
  const profile = scratchDir('chromium-profile');
  const browser = await puppeteer.launch({
    executablePath: bin,
    headless: true,
    args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile.path}`],
    protocolTimeout: 120_000,
  });
  const child = browser.process()!;
  running.add(child);
  const pid = child.pid!;
  const stop = async (): Promise<void> => {
    await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5_000))]);
    killGroup(child);
    running.delete(child);
    profile.remove();
  };
  return { browser, pid, stop };
}
