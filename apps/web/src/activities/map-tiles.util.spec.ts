import { type Response } from 'express';
import { allowTileImages, tileCspSource } from './map-tiles.util';

describe('tileCspSource', () => {
  it('should turn a tile template into a CSP source, subdomain placeholders as wildcards', () => {
    expect(tileCspSource('https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png')).toBe(
      'https://*.tile.openstreetmap.org',
    );
    expect(tileCspSource('http://tiles.local:8080/{z}/{x}/{y}.png')).toBe('http://tiles.local:8080');
  });

  it('should refuse templates that could smuggle other directives', () => {
    expect(tileCspSource("https://a.example; script-src 'unsafe-inline'/x")).toBeUndefined();
    expect(tileCspSource('javascript:alert(1)')).toBeUndefined();
    expect(tileCspSource('https://{z}.{s}.example/x')).toBeUndefined();
  });
});

describe('allowTileImages', () => {
  function fakeResponse(csp: string) {
    const headers = new Map<string, string>([['Content-Security-Policy', csp]]);
    return {
      headers,
      getHeader: (name: string) => headers.get(name),
      setHeader: (name: string, value: string) => headers.set(name, value),
    } as unknown as Response & { headers: Map<string, string> };
  }

  it('should widen only img-src, and only when a tile URL is configured', () => {
    const csp = "default-src 'none'; script-src 'self'; img-src 'self' data:; connect-src 'self'";
    const res = fakeResponse(csp);
    allowTileImages(res, 'https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png');
    expect(res.headers.get('Content-Security-Policy')).toBe(
      "default-src 'none'; script-src 'self'; img-src 'self' data: https://*.tile.openstreetmap.org; connect-src 'self'",
    );
    const untouched = fakeResponse(csp);
    allowTileImages(untouched, undefined);
    expect(untouched.headers.get('Content-Security-Policy')).toBe(csp);
  });
});
