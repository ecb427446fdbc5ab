/** `convnext configs` lists named configs; `convnext config show NAME [--set …]` prints one resolved. */
import type { Command } from 'commander';
import { configNames, resolveConfig } from '../../../configs/index.js';
import { collect } from '../common.js';
import { DESCRIPTIONS } from './descriptions.js';


export function register(program: Command): void {
  program
    .command('configs')
    .description(DESCRIPTIONS['configs'])
    .option('--json', 'print as a JSON array')
    .action((o: { json?: boolean }) => {
      const names = configNames();
      if (o.json) console.log(JSON.stringify(names));
      else for (const n of names) console.log(n);
    });
  const config = program.command('config').description(DESCRIPTIONS['config']);
  config
    .command('show <name>')
    .description('print a config with defaults and overrides applied, as JSON')
    .option('--set <key=value>', 'override a config value (repeatable)', collect)
    .action((name: string, o: { set?: string[] }) => {
      console.log(JSON.stringify(resolveConfig(name, o.set ?? []), null, 2));
    });
}
