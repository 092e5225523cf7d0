import { Inject, Injectable } from '@nestjs/common';
import { ConfigError, type Keyring, ValidationError } from '@tributary/common';
import {
  type AuthorizedAccount,
  CaptchaRequiredError,
  ConnectorRegistry,
  InvalidCredentialsError,
  MfaRequiredError,
  type ServiceConnector,
} from '@tributary/connectors';
import { SessionRepository } from '@tributary/db';

/** Injection token for the credentials keyring (null when the hub has no encryption keys). */
export const SITE_KEYRING = Symbol('SITE_KEYRING');
/** How long the password and SSO state wait, encrypted, for the verification code. */
export const PENDING_LOGIN_TTL_MS = 5 * 60_000;

export type LoginOutcome =
  | { kind: 'account'; account: AuthorizedAccount }
  | { kind: 'mfa'; method?: string; message?: string }
  | { kind: 'retry'; status: number; message: string; step: 'login' | 'mfa' };

interface PendingLogin {
  username: string;
  password: string;
  session: string;
  method?: string;
}

export function isCredentialsConnectable(connector: ServiceConnector): boolean {
  return connector.auth.kind === 'credentials' && connector.authorize !== undefined;
}

function field(value: string, name: string, max: number): string {
  if (value.length === 0 || value.length > max) {
    throw new ValidationError(`${name} must be between 1 and ${max} characters`, { field: name });
  }
  return value;
}

/**
 * Username/password services (Garmin Connect): logs in through the connector, and when the service asks for a
 * verification code, parks what the second step needs in the session row, encrypted, for a few minutes, so the
 * password never travels through the page again and the SSO cookies never reach the browser.
 */
@Injectable()
export class CredentialsLoginService {
  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly sessions: SessionRepository,
    @Inject(SITE_KEYRING) private readonly keyring: Keyring | null,
  ) {}

  async login(service: string, sessionId: string, username: string, password: string): Promise<LoginOutcome> {
    const login = { username: field(username.trim(), 'username', 200), password: field(password, 'password', 500) };
    return this.attempt(service, sessionId, login, 'login');
  }

  async verify(service: string, sessionId: string, code: string): Promise<LoginOutcome> {
    const parked = await this.sessions.takePendingLogin(sessionId, service);
    if (parked === undefined) {
      return {
        kind: 'retry',
        status: 400,
        step: 'login',
        message: 'The sign-in took too long or was already finished. Please enter your username and password again.',
      };
    }
    const pending = this.requireKeyring().decryptJson(parked) as PendingLogin;
    const trimmed = code.trim();
    if (!/^[0-9A-Za-z]{4,12}$/.test(trimmed)) {
      await this.park(service, sessionId, pending);
      return { kind: 'mfa', method: pending.method, message: 'Enter the code exactly as you received it.' };
    }
    return this.attempt(
      service,
      sessionId,
      { username: pending.username, password: pending.password, mfa: { code: trimmed, session: pending.session } },
      'mfa',
    );
  }

  private async attempt(
    service: string,
    sessionId: string,
    login: { username: string; password: string; mfa?: { code: string; session: string } },
    step: 'login' | 'mfa',
  ): Promise<LoginOutcome> {
    const connector = this.registry.get(service);
    const authorize = connector.authorize?.bind(connector);
    if (authorize === undefined) throw new ConfigError(`${service} does not log in with a username and password`);
    // Fail before talking to the service when the password could not be kept.
    this.requireKeyring();
    try {
      return { kind: 'account', account: await authorize(login) };
    } catch (err) {
      if (err instanceof MfaRequiredError) {
        await this.park(service, sessionId, {
          username: login.username,
          password: login.password,
          session: err.session,
          method: err.method,
        });
        return {
          kind: 'mfa',
          method: err.method,
          message: step === 'mfa' ? 'That code was not accepted. Try again with a new code.' : undefined,
        };
      }
      if (err instanceof InvalidCredentialsError) {
        return {
          kind: 'retry',
          status: 401,
          step: 'login',
          message:
            step === 'mfa'
              ? `${connector.name} did not accept the code. Please sign in again.`
              : `${connector.name} did not accept that username and password.`,
        };
      }
      if (err instanceof CaptchaRequiredError) {
        return {
          kind: 'retry',
          status: 403,
          step: 'login',
          message: `${connector.name} wants a captcha solved. Sign in once on its own website, then try again here.`,
        };
      }
      throw err;
    }
  }

  private async park(service: string, sessionId: string, pending: PendingLogin): Promise<void> {
    const ciphertext = this.requireKeyring().encryptJson(pending);
    await this.sessions.setPendingLogin(sessionId, service, ciphertext, PENDING_LOGIN_TTL_MS);
  }

  private requireKeyring(): Keyring {
    if (this.keyring === null) {
      throw new ConfigError('Passwords cannot be stored: no TRIBUTARY_ENCRYPTION_KEYS configured', {
        key: 'TRIBUTARY_ENCRYPTION_KEYS',
      });
    }
    return this.keyring;
  }
}
