/** The `tinycam` bin: runs the command (command.ts) with the process's arguments. */
import { main } from './command.js';

void Promise.resolve(main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
