import { Command } from 'commander';
import { registerActivitiesCommand } from './activities.command';
import { registerConvertCommand } from './convert.command';
import { registerDbCommand } from './db.command';
import { registerDownloadCommand } from './download.command';
import { registerExportCommand } from './export.command';
import { registerKeysCommand } from './keys.command';
import { registerSyncCommand } from './sync.command';
import { registerUsersCommand } from './users.command';

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
  registerUsersCommand(program);
  registerSyncCommand(program);
  registerActivitiesCommand(program);
  registerDownloadCommand(program);
  registerExportCommand(program);
  return program;
}
