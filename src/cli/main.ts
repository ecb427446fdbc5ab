/**
 * The `convnext` command: parses arguments, dispatches to one module per sub-command and turns
 * user errors into one-line messages (stack traces only with `--verbose`).
 */
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';
import { reportError } from './report-error.js';

const program = new Command();
program
  .name('convnext')
  .description('ConvNeXt dense prediction for Node.js: classification, features, segmentation, detection')
  .option('--verbose', 'show stack traces on errors')
  .showHelpAfterError('(run with --help for usage)');

// `convnext configs | head`: a closed pipe ends the output quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

try {
  await registerCommands(program, process.argv.slice(2));
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err, program.opts<{ verbose?: boolean }>().verbose ?? process.argv.includes('--verbose'));
}
