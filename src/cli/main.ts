/**
 * The `tinycam` command. Parses arguments, runs one command, and turns
 * errors into one readable line and an exit code: 2 for a usage mistake,
 * 1 for a failure (bad file, unknown layer, ...).
 */
import { TinycamError } from '../tensor/errors.js';
import { UsageError, parseExplainArgs, parseLayersArgs } from './args.js';
import { COMPARE_HELP, compareCommand, parseCompareArgs } from './compare.js';
import { explainCommand } from './explain.js';
import { EXPLAIN_HELP, LAYERS_HELP, MAIN_HELP, methodsHelp } from './help.js';
import { layersCommand } from './layers-command.js';

export function main(argv: string[]): number {
  const [command, ...rest] = argv;
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        console.log(MAIN_HELP);
        return command === undefined ? 2 : 0;
      case 'explain':
        if (wantsHelp) return print(EXPLAIN_HELP);
        explainCommand(parseExplainArgs(rest));
        return 0;
      case 'layers':
        if (wantsHelp) return print(LAYERS_HELP);
        layersCommand(parseLayersArgs(rest));
        return 0;
      case 'compare':
        if (wantsHelp) return print(COMPARE_HELP);
        compareCommand(parseCompareArgs(rest));
        return 0;
      case 'methods':
        return print(methodsHelp());
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (error) {
    const e = error as Error & { code?: string };
    if (error instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`tinycam: ${e.message}\nRun 'tinycam ${command && command !== 'help' ? `${command} ` : ''}--help' for usage.`);
      return 2;
    }
    if (error instanceof TinycamError || e.code === 'ENOENT' || e.code === 'EISDIR' || e.code === 'EACCES') {
      console.error(`tinycam: ${e.message}`);
      return 1;
    }
    throw error;
  }
}

function print(text: string): number {
  console.log(text);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
