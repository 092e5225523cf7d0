/**
 * Secret scrubbing for log output. Pino's path-based `redact` only reaches the paths it is told about, while secrets
 * turn up anywhere: nested in upstream payloads, in error properties, in URLs, inside JSON quoted in an error message.
 * So every serialized log line also passes through `scrubLogLine`, which works on the final JSON text and therefore
 * sees every depth, every error and every binding.
 */

export const REDACTED = '[Redacted]';

/** Explicit paths handed to pino's own redaction (cheap, structural) before the line-level scrub runs. */
export const REDACT_PATHS: readonly string[] = [
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'secret',
  'client_secret',
  '*.password',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.token',
  '*.secret',
  '*.client_secret',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

// A key is secret when its name ends with one of these words, whatever its prefix or casing (webhookVerifyToken,
// STRAVA_CLIENT_SECRET, x-refresh-token, Set-Cookie, proxy-authorization…).
const SECRET_KEY = String.raw`[A-Za-z0-9_.-]*?(?:password|passwd|passphrase|secret|token|authorization|cookie|api[-_]?key|credentials?|private[-_]?key|encryption[-_]?keys?)`;
const JSON_STRING = String.raw`"(?:[^"\\]|\\.)*"`;
const JSON_SCALAR = String.raw`(?:${JSON_STRING}|-?\d[\d.eE+-]*|true|false)`;
const JSON_STRING_ARRAY = String.raw`\[\s*(?:${JSON_STRING}\s*,?\s*)*\]`;

const plainKeyValue = new RegExp(String.raw`"(${SECRET_KEY})"\s*:\s*(?:${JSON_STRING_ARRAY}|${JSON_SCALAR})`, 'gi');
// The same, one level of JSON quoting deeper: an upstream response body quoted inside an error message.
const escapedKeyValue = new RegExp(
  String.raw`\\"(${SECRET_KEY})\\"\s*:\s*(?:\\"(?:(?!\\").)*\\"|-?\d[\d.eE+-]*)`,
  'gi',
);
// Form bodies and query strings: ?code=…&state=… (OAuth callbacks), access_token=…, client_secret=…
const queryParam = new RegExp(
  String.raw`([^A-Za-z0-9_-]|^)((?:code|ticket|token|access_token|refresh_token|id_token|client_secret|password|oauth_token|oauth_verifier|api_key|apikey|key|signature|sig|${SECRET_KEY})=)[^&#\s"\\]+`,
  'gi',
);
const authScheme = /\b(Bearer|Basic|Token|OAuth)\s+[A-Za-z0-9._~+/=-]{4,}/g;
// Credentials inside connection URLs: redis://:pw@host, postgres://user:pw@host
const urlCredentials = /\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s"]*:)[^@\s"/]+@/gi;

/** Masks secrets in free text (messages, URLs, stack traces). */
export function scrubText(text: string): string {
  return text
    .replace(queryParam, `$1$2${REDACTED}`)
    .replace(authScheme, `$1 ${REDACTED}`)
    .replace(urlCredentials, `$1${REDACTED}@`);
}

/** Masks secrets in one serialized JSON log line (the last step before it reaches the destination stream). */
export function scrubLogLine(line: string): string {
  return scrubText(
    line.replace(plainKeyValue, `"$1":"${REDACTED}"`).replace(escapedKeyValue, String.raw`\"$1\":\"${REDACTED}\"`),
  );
}

/** Removes a URL's password, for messages that name a server (e.g. "Redis is not reachable at …"). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = REDACTED;
    for (const key of [...parsed.searchParams.keys()]) {
      if (new RegExp(`^${SECRET_KEY}$|^(code|key|sig|signature)$`, 'i').test(key)) {
        parsed.searchParams.set(key, REDACTED);
      }
    }
    return parsed.toString().replaceAll(encodeURIComponent(REDACTED), REDACTED);
  } catch {
    return scrubText(url);
  }
}
