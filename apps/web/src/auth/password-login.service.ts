import { ValidationError } from '@tributary/common';
import { type UserLoginRepository } from '@tributary/db';
import { checkNewPassword, decoyHash, hashPassword, verifyPassword } from './password-hash.util';
import { PasswordThrottle } from './password-throttle.util';

/**
 * Five wrong passwords per email in 15 minutes, then wait for the window to end. The per-address budget is generous
 * because behind a reverse proxy without `trust proxy` every visitor shares the proxy's address: it only stops one
 * client spraying guesses over many emails, and must not lock everyone out.
 */
const PER_EMAIL = { maxFailures: 5, windowMs: 15 * 60_000 };
const PER_CLIENT = { maxFailures: 100, windowMs: 15 * 60_000 };
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export type PasswordLoginOutcome =
  { kind: 'ok'; userId: string } | { kind: 'invalid' } | { kind: 'throttled'; retryAfterSeconds: number };

export interface LoginSettingsInput {
  email: string;
  password: string;
  confirm: string;
  /** Required when the user already has a password. */
  currentPassword: string;
}

function normaliseEmail(raw: string): string {
  const email = raw.trim();
  if (email.length > 254 || !EMAIL.test(email)) {
    throw new ValidationError('Enter a valid email address', { fields: { email: 'is not a valid email address' } });
  }
  return email;
}

/**
 * Optional email + password login for people who do not want to sign in through a service each time. The account is
 * still its connections; a password is only another way into it. Failed attempts are throttled per email and per
 * client address, and an unknown email costs as much time as a wrong password (no account enumeration by timing).
 */
export class PasswordLoginService {
  private readonly byEmail = new PasswordThrottle(PER_EMAIL);
  private readonly byClient = new PasswordThrottle(PER_CLIENT);

  constructor(private readonly logins: UserLoginRepository) {}

  async hasPassword(userId: string): Promise<{ email: string | null; enabled: boolean }> {
    const login = await this.logins.get(userId);
    return { email: login.email, enabled: login.passwordHash !== null };
  }

  async setLogin(userId: string, input: LoginSettingsInput): Promise<void> {
    const email = normaliseEmail(input.email);
    checkNewPassword(input.password);
    if (input.password !== input.confirm) {
      throw new ValidationError('The two passwords differ', { fields: { confirm: 'does not match the password' } });
    }
    const current = await this.logins.get(userId);
    if (current.passwordHash !== null && !(await verifyPassword(input.currentPassword, current.passwordHash))) {
      throw new ValidationError('The current password is wrong', { fields: { currentPassword: 'is wrong' } });
    }
    await this.logins.set(userId, email, await hashPassword(input.password));
  }

  /** Turns password login off; signing in by connecting a service keeps working. */
  async removeLogin(userId: string, currentPassword: string): Promise<void> {
    const current = await this.logins.get(userId);
    if (current.passwordHash === null) return;
    if (!(await verifyPassword(currentPassword, current.passwordHash))) {
      throw new ValidationError('The current password is wrong', { fields: { currentPassword: 'is wrong' } });
    }
    await this.logins.set(userId, current.email, null);
  }

  async login(rawEmail: string, password: string, client: string): Promise<PasswordLoginOutcome> {
    const emailKey = `email:${rawEmail.trim().toLowerCase()}`;
    const clientKey = `client:${client}`;
    const wait = Math.max(this.byEmail.retryAfterSeconds([emailKey]), this.byClient.retryAfterSeconds([clientKey]));
    if (wait > 0) return { kind: 'throttled', retryAfterSeconds: wait };
    const login = rawEmail.trim() === '' ? undefined : await this.logins.findByEmail(rawEmail);
    const ok = await verifyPassword(password, login?.passwordHash ?? (await decoyHash()));
    if (!ok || login === undefined) {
      this.byEmail.recordFailure([emailKey]);
      this.byClient.recordFailure([clientKey]);
      return { kind: 'invalid' };
    }
    this.byEmail.reset(emailKey);
    return { kind: 'ok', userId: login.userId };
  }
}
