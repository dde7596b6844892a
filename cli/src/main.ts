import { runCli } from './cli.js';

process.exitCode = runCli(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`));
