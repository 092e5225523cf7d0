/** Postgres error classes the repositories turn into domain outcomes. */
interface PgError {
  code?: string;
  constraint?: string;
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as PgError;
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

export function isForeignKeyViolation(err: unknown): boolean {
  return (err as PgError)?.code === '23503';
}

/** invalid_text_representation: e.g. a malformed uuid from a URL; treated as "no such row". */
export function isInvalidText(err: unknown): boolean {
  return (err as PgError)?.code === '22P02';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids come from URLs and job payloads; a malformed one cannot name a row, so callers answer "not found". */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
