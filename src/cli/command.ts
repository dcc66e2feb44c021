/**
 * The `tinycam` command: one command per run, its errors turned into one
 * readable line and an exit code: 2 for a usage mistake, 1 for a failure
 * (bad file, unknown layer, images skipped in a folder). The bin entry
 * (main.ts) only calls `main` with the process's arguments.
 */
import { version } from '../../package.json';
import { TinycamError } from '../tensor/errors.js';
import { UsageError, parseExplainArgs, parseLayersArgs } from './args.js';
import { onBackend } from './backend-option.js';
import { COMPARE_HELP, compareCommand, parseCompareArgs } from './compare.js';
import { explainCommand } from './explain.js';
import { explainInWorkers } from './jobs.js';
import { EXPLAIN_HELP, LAYERS_HELP, MAIN_HELP, methodsHelp } from './help.js';
import { layersCommand } from './layers-command.js';
import { Terminal } from './terminal.js';

/**
 * Runs one command and returns its exit code. A command that runs the model
 * on the WebAssembly kernels (--backend wasm, the default) returns a promise
 * of it (they load first), as `explain --jobs N` over a folder does (the
 * images are explained in worker threads); with --backend js a run ends at once.
 */
export function main(argv: string[], terminal: Terminal = new Terminal()): number | Promise<number> {
  const [command, ...rest] = argv;
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  // WebAssembly that cannot load leaves the JS kernels, with the library's one-line notice on stderr
  // (said once, here: the --jobs workers then load it, or stay on JS, quietly).
  const warn = (line: string): void => terminal.error(line);
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
        return settled(
          onBackend(args.backend, warn, () =>
            args.jobs > 1 ? explainInWorkers(args, args.jobs, terminal).then((r) => (r.skipped.length ? 1 : 0)) : explainCommand(args, terminal).skipped.length ? 1 : 0,
          ),
          command,
          terminal,
        );
      }
      case 'layers': {
        if (wantsHelp) return print(terminal, LAYERS_HELP);
        const args = parseLayersArgs(rest);
        return settled(
          onBackend(args.backend, warn, () => {
            layersCommand(args, terminal);
            return 0;
          }),
          command,
          terminal,
        );
      }
      case 'compare': {
        if (wantsHelp) return print(terminal, COMPARE_HELP);
        const args = parseCompareArgs(rest);
        return settled(
          onBackend(args.backend, warn, () => {
            compareCommand(args, (line) => terminal.log(line), (line) => terminal.status(line));
            terminal.clear();
            return 0;
          }),
          command,
          terminal,
        );
      }
      case 'methods':
        return print(terminal, methodsHelp());
      default:
        throw new UsageError(`unknown command '${command}'; the commands are explain, layers, compare and methods`);
    }
  } catch (error) {
    return failure(error, command, terminal);
  }
}

/** A run's exit code; a run that ends later (on the WebAssembly kernels, or --jobs) fails as one that ends at once. */
function settled(code: number | Promise<number>, command: string, terminal: Terminal): number | Promise<number> {
  return typeof code === 'number' ? code : code.catch((e: unknown) => failure(e, command, terminal));
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

