import { type Command } from 'commander';
import { type UserRole } from '@tributary/db';
import { CliUsageError } from './cli.error';
import { type CliIo, openCli } from './cli-context.util';
import { type UserListEntry, listUsers, resolveUser, setUserRole } from './cli-users.util';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** `tributary users list`: every user, with role, connected services, activity count and sync times. */
export async function runUsersList(opts: { json?: boolean }, io: CliIo = {}): Promise<UserListEntry[]> {
  const out = io.out ?? process.stdout;
  const ctx = await openCli(io.env);
  try {
    const users = await listUsers(ctx.database.db);
    if (opts.json) out.write(`${JSON.stringify(users)}\n`);
    else if (users.length === 0) out.write('No users.\n');
    else {
      out.write(
        table([
          ['ID', 'EMAIL', 'ROLE', 'SERVICES', 'ACTIVITIES', 'LAST SYNC'],
          ...users.map((u) => [
            u.id,
            u.email ?? '-',
            u.role,
            u.connections.join(',') || '-',
            String(u.activities),
            u.lastSyncAt ?? 'never',
          ]),
        ]),
      );
    }
    return users;
  } finally {
    await ctx.close();
  }
}

export function parseRole(value: string): UserRole {
  if (value === 'admin' || value === 'user') return value;
  throw new CliUsageError(`role must be "admin" or "user", not "${value}"`);
}

/** `tributary users role <user> admin|user`: grants or removes administration rights (audit-logged). */
export async function runUsersRole(
  ref: string,
  roleArg: string,
  opts: { json?: boolean },
  io: CliIo = {},
): Promise<{ userId: string; from: UserRole; to: UserRole }> {
  const out = io.out ?? process.stdout;
  const role = parseRole(roleArg);
  const ctx = await openCli(io.env);
  try {
    const user = await resolveUser(ctx.database.db, ref);
    const from = await setUserRole(ctx.database.db, user.id, role);
    const result = { userId: user.id, from, to: role };
    out.write(
      opts.json
        ? `${JSON.stringify(result)}\n`
        : from === role
          ? `User ${user.id} already has the role ${role}.\n`
          : `User ${user.id}: role ${from} → ${role}.\n`,
    );
    return result;
  } finally {
    await ctx.close();
  }
}

export function registerUsersCommand(program: Command): void {
  const users = program.command('users').description('Hub users');
  users
    .command('list')
    .description('List every user with role, services and activity count')
    .action(async (_opts: unknown, cmd: Command) => {
      await runUsersList(cmd.optsWithGlobals<{ json?: boolean }>());
    });
  users
    .command('role')
    .description('Set a user’s role')
    .argument('<user>', 'user id, email, or service:externalUserId')
    .argument('<role>', 'admin or user')
    .action(async (ref: string, role: string, _opts: unknown, cmd: Command) => {
      await runUsersRole(ref, role, cmd.optsWithGlobals<{ json?: boolean }>());
    });
}
