/**
 * The `tinycam` command: one command per run, its errors turned into one
 * readable line and an exit code: 2 for a usage mistake, 1 for a failure
 * (bad file, unknown layer, images skipped in a folder). The bin entry
 * (main.ts) only calls `main` with the process's arguments.
 */
import { version } from '../../package.json';
import { TinycamError } from '../tensor/errors.js';
import { setBackend } from '../tensor/backend.js';
import { UsageError, parseExplainArgs, parseLayersArgs } from './args.js';
import { COMPARE_HELP, compareCommand, parseCompareArgs } from './compare.js';
import { explainCommand } from './explain.js';
import { explainInWorkers } from './jobs.js';
import { EXPLAIN_HELP, LAYERS_HELP, MAIN_HELP, methodsHelp } from './help.js';
import { layersCommand } from './layers-command.js';
import { Terminal } from './terminal.js';

/**
 * Runs one command and returns its exit code; `explain --jobs N` over a
 * folder returns a promise of it (the images are explained in worker threads).
 */
export function main(argv: string[], terminal: Terminal = new Terminal()): number | Promise<number> {
  const [command, ...rest] = argv;
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        terminal.log(MAIN_HELP);
        return command === undefined ? 2 : 0;
      case '--version':
      case '-v':
      case 'version':
        terminal.log(`tinycam ${version}`);
        return 0;
      case 'explain': {
        if (wantsHelp) return print(terminal, EXPLAIN_HELP());
        const args = parseExplainArgs(rest);
        const explain = (): number | Promise<number> =>
          args.jobs > 1
            ? explainInWorkers(args, args.jobs, terminal).then((r) => (r.skipped.length ? 1 : 0), (e: unknown) => failure(e, command, terminal))
            : explainCommand(args, terminal).skipped.length ? 1 : 0;
        if (args.backend === 'wasm') {
          // WebAssembly that cannot load leaves the JS kernels, with the library's one-line notice
          // (once, here: the --jobs workers then load it, or stay on JS, quietly).
          return setBackend('wasm', { warn: (m) => terminal.error(m) })
            .then(explain)
            .catch((e: unknown) => failure(e, command, terminal));
        }
        return explain();
      }
      case 'layers':
        if (wantsHelp) return print(terminal, LAYERS_HELP);
        layersCommand(parseLayersArgs(rest), terminal);
        return 0;
      case 'compare':
        if (wantsHelp) return print(terminal, COMPARE_HELP);
        compareCommand(parseCompareArgs(rest), (line) => terminal.log(line), (line) => terminal.status(line));
        terminal.clear();
        return 0;
      case 'methods':
        return print(terminal, methodsHelp());
      default:
        throw new UsageError(`unknown command '${command}'; the commands are explain, layers, compare and methods`);
    }
  } catch (error) {
    return failure(error, command, terminal);
  }
}

/** An error as one line and an exit code: 2 for a usage mistake, 1 for a failure; anything else is a bug and is thrown. */
function failure(error: unknown, command: string | undefined, terminal: Terminal): number {
  terminal.clear();
  const e = error as Error & { code?: unknown; syscall?: unknown };
  if (error instanceof UsageError || (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS'))) {
    const known = command === 'explain' || command === 'layers' || command === 'compare';
    terminal.error(`tinycam: ${e.message}\nRun 'tinycam ${known ? `${command} ` : ''}--help' for usage.`);
    return 2;
  }
  // Typed errors of the library, and the file system's (ENOENT, EACCES, ENAMETOOLONG, EEXIST...): one line.
  if (error instanceof TinycamError || (typeof e.code === 'string' && typeof e.syscall === 'string')) {
    terminal.error(`tinycam: ${e.message}`);
    return 1;
  }
  throw error;
}

function print(terminal: Terminal, text: string): number {
  terminal.log(text);
  return 0;
}

