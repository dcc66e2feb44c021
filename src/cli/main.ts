/** The `tinycam` bin: runs the command (command.ts) with the process's arguments. */
import { main } from './command.js';

process.exitCode = main(process.argv.slice(2));
