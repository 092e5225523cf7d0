import 'reflect-metadata';
import { type Command, CommanderError } from 'commander';
import { isDomainError } from '@tributary/common';
import { buildProgram } from './program';

/** Exit codes: 0 ok, 1 failure, 2 bad usage or input, 3 a dependency (DB, Redis, upstream) is unavailable. */
async function main(argv: string[]): Promise<number> {
  const program: Command = buildProgram();
  // Subcommands do not inherit an override set after they were added: without this, commander exits 1 on their usage
  // errors (a missing argument) instead of our 2.
  const override = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (isDomainError(err)) {
      process.stderr.write(`tributary: ${err.message}\n`);
      if (err.code === 'unavailable') return 3;
      return err.code === 'validation' || err.code.startsWith('format_') ? 2 : 1;
    }
    process.stderr.write(
      `tributary: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tributary: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
