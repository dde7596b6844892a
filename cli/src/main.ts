import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`), {
  write: (chunk) => process.stdout.write(chunk),
  printError: (line) => process.stderr.write(`${line}\n`),
});
