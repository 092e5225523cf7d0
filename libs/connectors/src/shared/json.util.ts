import { PermanentUpstreamError } from '../errors/connector.error';
import { type HttpResponse, isJsonObject } from '../http/http-client';

/**
 * JSON.parse that keeps integers beyond 2^53 exact by turning them into strings first (Strava and Garmin ids are
 * 64-bit). Callers read ids with `idString`.
 */
export function parseJsonLossless(text: string): unknown {
  return JSON.parse(text.replace(/([:[,]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '$1"$2"')) as unknown;
}

export function responseJson(service: string, res: HttpResponse, operation: string): unknown {
  const text = res.text();
  try {
    return parseJsonLossless(text);
  } catch (err) {
    throw new PermanentUpstreamError(service, 'bad_response', `${operation}: response is not JSON`, res.status, err);
  }
}

export function responseObject(service: string, res: HttpResponse, operation: string): Record<string, unknown> {
  const body = responseJson(service, res, operation);
  if (!isJsonObject(body)) {
    throw new PermanentUpstreamError(service, 'bad_response', `${operation}: expected a JSON object`, res.status);
  }
  return body;
}

export function idString(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function num(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function bool(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}
