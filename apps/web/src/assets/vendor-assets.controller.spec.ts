import { type Server } from 'node:http';
import { type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { VendorAssetsController } from './vendor-assets.controller';

describe(VendorAssetsController.name, () => {
  let app: INestApplication;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [VendorAssetsController] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(() => app.close());
  const server = (): Server => app.getHttpServer() as Server;

  it('should serve Leaflet and the map script with a type, an ETag and 304 on revalidation', async () => {
    const js = await request(server()).get('/assets/vendor/leaflet/leaflet.js').expect(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.text).toContain('Leaflet');
    await request(server())
      .get('/assets/vendor/leaflet/leaflet.js')
      .set('If-None-Match', js.headers.etag as string)
      .expect(304);
    const png = await request(server()).get('/assets/vendor/leaflet/images/layers.png').expect(200);
    expect(png.headers['content-type']).toBe('image/png');
    const map = await request(server()).get('/assets/activity-map.js').expect(200);
    expect(map.text).toContain("getElementById('activity-map')");
  });

  it('should serve nothing outside its list', async () => {
    for (const path of [
      '/assets/vendor/leaflet/package.json',
      '/assets/vendor/leaflet/..%2F..%2Fpackage.json',
      '/assets/vendor/leaflet/leaflet.js.map',
      '/assets/vendor/leaflet/images/..%2Fleaflet.js',
    ]) {
      const res = await request(server()).get(path);
      expect([path, res.status]).toEqual([path, 404]);
    }
  });
});
