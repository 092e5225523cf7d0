import {
  ACTIVITY_LIST_STATUSES,
  type ActivityCursor,
  type ActivityListFilter,
  type ActivityListStatus,
  isUuid,
} from '@tributary/db';

/** The filter as the form shows it (raw strings, so a bad value is shown back as typed). */
export interface FilterForm {
  from: string;
  to: string;
  type: string;
  service: string;
  status: ActivityListStatus;
}

export interface ParsedFilter {
  filter: ActivityListFilter;
  form: FilterForm;
  /** One sentence per value that was ignored. */
  problems: string[];
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

function text(query: Record<string, unknown>, name: string): string {
  const v = query[name];
  return typeof v === 'string' ? v.trim() : '';
}

function parseDay(value: string): Date | undefined {
  if (!DAY.test(value)) return undefined;
  const at = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(at.getTime()) || at.toISOString().slice(0, 10) !== value ? undefined : at;
}

/** `startAt|id` in base64url: opaque to clients, stable across requests. */
export function encodeCursor(c: ActivityCursor): string {
  return Buffer.from(`${c.startAt.toISOString()}|${c.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(value: string): ActivityCursor | undefined {
  const [iso, id] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  if (iso === undefined || id === undefined || !isUuid(id)) return undefined;
  const startAt = new Date(iso);
  return Number.isNaN(startAt.getTime()) ? undefined : { startAt, id };
}

/**
 * Reads the list filter from a query string. Dates are whole days (UTC), `to` inclusive. Values that cannot be used
 * are dropped with a problem each, so a typo narrows nothing instead of hiding every activity.
 */
export function parseFilter(query: Record<string, unknown>, opts: { maxLimit?: number } = {}): ParsedFilter {
  const problems: string[] = [];
  const filter: ActivityListFilter = {};
  const form: FilterForm = {
    from: text(query, 'from'),
    to: text(query, 'to'),
    type: text(query, 'type'),
    service: text(query, 'service'),
    status: 'all',
  };
  if (form.from !== '') {
    const from = parseDay(form.from);
    if (from === undefined) problems.push(`"From" must be a date like 2024-05-31; "${form.from}" was ignored.`);
    else filter.from = from;
  }
  if (form.to !== '') {
    const to = parseDay(form.to);
    if (to === undefined) problems.push(`"To" must be a date like 2024-05-31; "${form.to}" was ignored.`);
    else filter.to = new Date(to.getTime() + DAY_MS);
  }
  if (filter.from !== undefined && filter.to !== undefined && filter.to <= filter.from) {
    problems.push('"To" is before "From"; the dates were ignored.');
    delete filter.from;
    delete filter.to;
  }
  if (form.type !== '') filter.type = form.type;
  if (form.service !== '') filter.service = form.service;
  const status = text(query, 'status');
  if (status !== '') {
    if ((ACTIVITY_LIST_STATUSES as readonly string[]).includes(status)) {
      form.status = status as ActivityListStatus;
      filter.status = form.status;
    } else problems.push(`Unknown status "${status}"; showing all.`);
  }
  const after = text(query, 'after');
  if (after !== '') {
    const cursor = decodeCursor(after);
    if (cursor === undefined) problems.push('The page link was not valid; showing the first page.');
    else filter.after = cursor;
  }
  const limit = text(query, 'limit');
  if (limit !== '') {
    const n = Number(limit);
    const max = opts.maxLimit ?? 100;
    if (!Number.isInteger(n) || n < 1 || n > max) problems.push(`"limit" must be a whole number from 1 to ${max}.`);
    else filter.limit = n;
  }
  return { filter, form, problems };
}

/** The query string for the same filter (empty values left out), optionally on another page. */
export function filterQuery(form: FilterForm, after?: ActivityCursor): string {
  const params = new URLSearchParams();
  if (form.from !== '') params.set('from', form.from);
  if (form.to !== '') params.set('to', form.to);
  if (form.type !== '') params.set('type', form.type);
  if (form.service !== '') params.set('service', form.service);
  if (form.status !== 'all') params.set('status', form.status);
  if (after !== undefined) params.set('after', encodeCursor(after));
  const q = params.toString();
  return q === '' ? '' : `?${q}`;
}
