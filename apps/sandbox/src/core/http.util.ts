import type { NextFunction, Request, Response } from 'express';

/** Request bodies are read once, raw, so each simulator can parse them the way its real service does. */
export interface SandboxRequest extends Request {
  rawBody?: Buffer;
}

const MAX_BODY_BYTES = 200 * 1024 * 1024;

export function rawBodyMiddleware(req: Request, res: Response, next: NextFunction): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      if (!failed) {
        failed = true;
        res.status(413).type('text/plain').send('payload too large');
      }
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (failed) return;
    (req as SandboxRequest).rawBody = Buffer.concat(chunks);
    next();
  });
  req.on('error', next);
}

export function rawBody(req: Request): Buffer {
  return (req as SandboxRequest).rawBody ?? Buffer.alloc(0);
}

/** Parses a JSON body; undefined when the body is empty, null when it is not valid JSON. */
export function jsonBody(req: Request): unknown {
  const body = rawBody(req);
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return null;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function formBody(req: Request): Record<string, string> {
  const type = req.headers['content-type'] ?? '';
  if (type.includes('multipart/form-data')) {
    const out: Record<string, string> = {};
    for (const part of multipartBody(req)) {
      if (part.filename === undefined) out[part.name] = part.data.toString('utf8');
    }
    return out;
  }
  const params = new URLSearchParams(rawBody(req).toString('utf8'));
  return Object.fromEntries(params.entries());
}

export interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** Minimal RFC 7578 parser: enough for clients that send files and text fields (fetch FormData, requests, axios). */
export function multipartBody(req: Request): MultipartPart[] {
  const type = req.headers['content-type'] ?? '';
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(type);
  const boundary = match?.[1] ?? match?.[2];
  if (boundary === undefined) return [];
  const body = rawBody(req);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delimiter);
  while (pos !== -1) {
    const start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    // Each part sits between "\r\n" after the delimiter and "\r\n" before the next one.
    const part = body.subarray(start + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const data = part.subarray(headerEnd + 4);
      const disposition = /content-disposition:[^\r\n]*/i.exec(headers)?.[0] ?? '';
      const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
      const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
      const contentType = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1];
      if (name !== undefined) parts.push({ name, filename, contentType, data: Buffer.from(data) });
    }
    pos = next;
  }
  return parts;
}

export function parseCookies(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const piece of (req.headers.cookie ?? '').split(';')) {
    const eq = piece.indexOf('=');
    if (eq <= 0) continue;
    out[piece.slice(0, eq).trim()] = decodeURIComponent(piece.slice(eq + 1).trim());
  }
  return out;
}

export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1];
}

export function queryString(req: Request, name: string): string | undefined {
  const value: unknown = (req.query as Record<string, unknown>)[name];
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
