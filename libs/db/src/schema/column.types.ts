import { type ColumnType, type Generated } from 'kysely';

/** A timestamptz column: read as Date, written as Date or ISO string. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamptz column with a database default. */
export type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** A JSONB column holding T. Written as T: pg serialises objects, arrays must be passed through `json()`. */
export type Json<T> = ColumnType<T, T, T>;
/** A JSONB column with a database default. */
export type GeneratedJson<T> = ColumnType<T, T | undefined, T>;
export type Uuid = Generated<string>;
