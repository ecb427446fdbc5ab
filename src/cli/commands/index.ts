/**
 * The sub-commands, loaded on use: `convnext detect …` imports only the detect module (and what it
 * needs), so `convnext --help` and light commands start without loading the engines.
 */
import type { Command } from 'commander';
import { type CommandName, DESCRIPTIONS } from './descriptions.js';

/** A sub-command module adds itself to the program. */
export type RegisterCommand = (program: Command) => void;

type Loader = () => Promise<{ register: RegisterCommand }>;

/** The module of each sub-command, in help order. Add new command modules here and in ./descriptions.ts. */
export const COMMANDS: ReadonlyArray<{ names: readonly CommandName[]; load: Loader }> = [
  { names: ['demo'], load: () => import('./demo.js') },
  { names: ['configs', 'config'], load: () => import('./configs.js') },
  { names: ['features'], load: () => import('./features.js') },
  { names: ['classify'], load: () => import('./classify.js') },
  { names: ['export'], load: () => import('./export.js') },
  { names: ['quantize'], load: () => import('./quantize.js') },
  { names: ['bench'], load: () => import('./bench.js') },
  { names: ['convert'], load: () => import('./convert.js') },
  { names: ['inspect'], load: () => import('./inspect.js') },
  { names: ['detect'], load: () => import('./detect.js') },
  { names: ['segment'], load: () => import('./segment.js') },
  { names: ['eval'], load: () => import('./eval.js') },
  { names: ['synth'], load: () => import('./synth.js') },
  { names: ['train'], load: () => import('./train.js') },
  { names: ['serve'], load: () => import('./serve.js') },
  { names: ['web'], load: () => import('./web.js') },
];

/**
 * Registers what `argv` (after node and the script) needs: the named sub-command's module, or, for
 * the program's own help or an unknown name, every command as a name and a description only.
 */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const words = argv.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  const entry = COMMANDS.find((c) => (c.names as readonly string[]).includes(name ?? ''));
  if (entry) {
    (await entry.load()).register(program);
    return;
  }
  for (const c of COMMANDS) for (const n of c.names) program.command(n).description(DESCRIPTIONS[n]);
}
