import type { Command } from 'commander';
import { register as bench } from './bench.js';
import { register as classify } from './classify.js';
import { register as configs } from './configs.js';
import { register as convert } from './convert.js';
import { register as demo } from './demo.js';
import { register as detect } from './detect.js';
import { register as evalCmd } from './eval.js';
import { register as exportCmd } from './export.js';
import { register as features } from './features.js';
import { register as inspect } from './inspect.js';
import { register as segment } from './segment.js';
import { register as synth } from './synth.js';
import { register as train } from './train.js';

/** A sub-command module adds itself to the program. */
export type RegisterCommand = (program: Command) => void;

/** Every sub-command, in help order. Add new command modules here. */
export const commands: RegisterCommand[] = [demo, configs, features, classify, exportCmd, bench, convert, inspect, detect, segment, evalCmd, synth, train];
