import type { Command } from 'commander';

/** A sub-command module adds itself to the program. */
export type RegisterCommand = (program: Command) => void;

/** Every sub-command, in help order. Add new command modules here. */
export const commands: RegisterCommand[] = [];
