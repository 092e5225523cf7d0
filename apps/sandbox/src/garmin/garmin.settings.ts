/** Tunables of the Garmin Connect (unofficial API) simulator; [unv] facts from service-apis.md are settings. */
export interface GarminSettings {
  /** [unv] Lifetime of API access tokens and web sessions. */
  sessionTtlSeconds: number;
  /** [unv] Lifetime of refresh tokens (DI/OAuth2). */
  refreshTokenTtlSeconds: number;
  /** The 2019 incident: a dead session gets the ROLE_SYSTEM demo data set from the activity list instead of 401. */
  roleSystemTrap: boolean;
  duplicateDetection: boolean;
  /** Same owner + start time within this many seconds = duplicate. */
  duplicateToleranceSeconds: number;
  /** Status polls answering 202 before the upload result (201 + Location) is revealed. */
  uploadProcessingPolls: number;
  /** [unv] HTTP status of a wrong-password answer on the classic SSO form (the JSON mobile API always answers 200). */
  badCredentialsStatus: number;
  /** MFA code accepted for accounts created without their own. */
  defaultMfaCode: string;
}

export const DEFAULT_GARMIN_SETTINGS: GarminSettings = {
  sessionTtlSeconds: 3_600,
  refreshTokenTtlSeconds: 30 * 86_400,
  roleSystemTrap: false,
  duplicateDetection: true,
  duplicateToleranceSeconds: 0,
  uploadProcessingPolls: 0,
  badCredentialsStatus: 401,
  defaultMfaCode: '123456',
};
