import { type ConnectionRepository, type UserRepository } from '@tributary/db';
import { type SiteAccountService } from '../auth/site-account.service';

/**
 * "Delete my account": every connection is disconnected the way the dashboard does it (token revoked at the service,
 * best effort; connection and its ledgers deleted), then the user row goes, taking by cascade every record, run,
 * error, session and setting left.
 */
export class AccountDeletionService {
  constructor(
    private readonly accounts: Pick<SiteAccountService, 'disconnect'>,
    private readonly connections: Pick<ConnectionRepository, 'listForUser'>,
    private readonly users: Pick<UserRepository, 'delete'>,
  ) {}

  async delete(userId: string): Promise<{ revoked: number }> {
    const connections = await this.connections.listForUser(userId);
    for (const c of connections) await this.accounts.disconnect(userId, c.id);
    await this.users.delete(userId);
    return { revoked: connections.length };
  }
}
