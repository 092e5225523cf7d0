import { type Insertable, type Selectable } from 'kysely';
import { type GeneratedTimestamp, type Timestamp, type Uuid } from './column.types';

export interface SessionTable {
  /** SHA-256 (hex) of the cookie token; the token itself is never stored. */
  id: string;
  user_id: Uuid | null;
  csrf_secret: string;
  oauth_state_hash: string | null;
  oauth_service: string | null;
  oauth_state_expires_at: Timestamp | null;
  pending_login_service: string | null;
  /** Encrypted (keyring) username, password and MFA session of a login waiting for its verification code. */
  pending_login_ciphertext: string | null;
  pending_login_expires_at: Timestamp | null;
  created_at: GeneratedTimestamp;
  last_seen_at: GeneratedTimestamp;
  expires_at: Timestamp;
}

export type SessionRow = Selectable<SessionTable>;
export type NewSessionRow = Insertable<SessionTable>;
