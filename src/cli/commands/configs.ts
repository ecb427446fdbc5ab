/** `convnext configs` lists named configs; `convnext config show NAME [--set …]` prints one resolved. */
import type { Command } from 'commander';
import { configNames, recipeNames, resolveConfig } from '../../../configs/index.js';
import { collect } from '../common.js';
import { DESCRIPTIONS } from './descriptions.js';


export function register(program: Command): void {
  program
    .command('configs')
    .description(DESCRIPTIONS['configs'])
    .option('--json', 'print as JSON: { configs, recipes }')
    .action((o: { json?: boolean }) => {
      const names = configNames();
      const recipes = recipeNames();
      if (o.json) console.log(JSON.stringify({ configs: names, recipes }));
      else {
        for (const n of names) console.log(n);
        console.log('\ntraining recipes (convnext train -c NAME):');
        for (const n of recipes) console.log(n);
      }
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
