import { type ActivitySummary, type ActivityType } from '@tributary/activity';

/** Service ids are plain strings ('strava', 'garmin_connect', 'dropbox', …) so adding a connector needs no change here. */
export type ServiceId = string;

/** A WGS84 position in degrees. */
export interface GeoPoint {
  lat: number;
  lon: number;
}

/** One entry of one connection's activity list, as the worker hands it to the sync core. */
export interface ListedActivity {
  connectionId: string;
  service: ServiceId;
  summary: ActivitySummary;
  /** Where the activity started, when the listing carries it (Strava start_latlng, a GPX's first point). */
  startPosition?: GeoPoint;
}

/** How a merged activity got its timezone; `undefined` zone means none of the chain worked. */
export type TimezoneSource = 'listing' | 'position' | 'offset_hint' | 'user_common' | 'user_setting';

/** One connection that has the activity: a listing connection (remoteIds non-empty). */
export interface ConnectionPresence {
  connectionId: string;
  service: ServiceId;
  /** Usually one; several when the service itself holds duplicates (e.g. the same file uploaded twice). */
  remoteIds: string[];
}

/**
 * One real-world activity after dedup and coalescing. Times follow the Activity model: epoch ms instants, or wall
 * clock read as UTC when `naive` (only when no timezone could be found at all).
 */
export interface MergedActivity {
  /** The primary UID (local wall-clock start hash); undefined only while the wall clock is unknown. */
  uid?: string;
  /** Every UID this activity is known by, sorted: the primary one plus those of each listing. */
  uids: string[];
  /** Every normalised external id seen in any listing, sorted. */
  externalIds: string[];
  start: number;
  end?: number;
  timezone?: string;
  timezoneSource?: TimezoneSource;
  naive?: boolean;
  type: ActivityType;
  name?: string;
  notes?: string;
  private: boolean;
  stationary?: boolean;
  gps?: boolean;
  trainer?: boolean;
  /** metres */
  distance?: number;
  /** False while any service still records or processes it. */
  complete: boolean;
  /** Connections that listed it, sorted by connection id. */
  presence: ConnectionPresence[];
  /** The listings merged into this activity, in coalescing order (source preference, connection id, remote id). */
  sources: ListedActivity[];
}

/** What a connector can do; connectors provide one per service. */
export interface DestinationCapabilities {
  /** Accepts uploads. */
  receives: boolean;
  /** Can be a download source. */
  supplies: boolean;
  /** Types the service accepts on upload; an activity falls back to its nearest accepted ancestor type. */
  acceptedTypes: ReadonlySet<ActivityType>;
  /** Accepts activities with no samples (manual entries). */
  acceptsStationary: boolean;
  /** Accepts non-stationary activities without GPS (trainer rides with sensors). */
  acceptsNonGps: boolean;
  /** The connection must be configured by the user before anything is uploaded to it. */
  requiresConfiguration: boolean;
}

/** Per-connection user settings. Flow exceptions name the other connection's id. */
export interface ConnectionSettings {
  /** Private activities from this connection may be copied to others. */
  syncPrivate: boolean;
  /** Connections whose activities must not be copied here. */
  receiveFromBlocked?: readonly string[];
  /** Connections this connection's activities must not be copied to. */
  sendToBlocked?: readonly string[];
  /** Whether the user has completed the service's configuration (see requiresConfiguration). */
  configured?: boolean;
}

/** Why a whole connection takes no part in the rest of this sync. */
export type ConnectionExclusionReason =
  'listing_failed' | 'blocking_error' | 'credentials_missing' | 'service_disabled' | 'rate_limited';

export interface ConnectionState {
  id: string;
  service: ServiceId;
  capabilities: DestinationCapabilities;
  settings: ConnectionSettings;
  /** UIDs and external ids this connection has ever seen (listed or received); any one of an activity's means present. */
  synchronizedUids: ReadonlySet<string>;
  /** Set when the connection is excluded for this sync (listing failed, blocking error, …). */
  excluded?: { reason: ConnectionExclusionReason; message?: string };
}

export interface UserSyncSettings {
  /** Do not copy an activity until this long after it ended (tapiriik: 0, 20 min, 1 h, 3 h, 6 h, 12 h, 1 day). */
  uploadDelayMs: number;
  /** Do not copy activities that started before this instant (epoch ms). */
  skipBefore?: number;
  /** The user's configured or browser timezone: the last fallback of the timezone chain. */
  timezone?: string;
}
