import { Command } from 'commander';
import { registerConvertCommand } from './convert.command';
import { registerDbCommand } from './db.command';
import { registerKeysCommand } from './keys.command';

/**
 * The `tributary` command. Each command group lives in its own `*.command.ts` file exporting a
 * `register…(program)` function, added here.
 */
export function buildProgram(): Command {
  const program = new Command('tributary')
    .description('Tributary fitness-activity sync hub: administration and file tools')
    .option('--json', 'machine-readable JSON output');
  registerDbCommand(program);
  registerKeysCommand(program);
  registerConvertCommand(program);
  return program;
}
