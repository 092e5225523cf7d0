import { type Activity, type ActivityFormat } from '@tributary/activity';
import { PermanentError } from '@tributary/common';
import { type ActivityCodec } from '../shared/activity-codec';
import { type ConnectorContext, type JsonObject } from '../service-connector.interface';

/** A context whose saved credentials are visible to the test. */
export function testContext(
  credentials: JsonObject,
  config: JsonObject = {},
): ConnectorContext & { saved: JsonObject[] } {
  const saved: JsonObject[] = [];
  return {
    connectionId: 'conn-1',
    credentials,
    config,
    saved,
    saveCredentials: (next) => {
      saved.push(next);
      return Promise.resolve();
    },
  };
}

/**
 * A codec that round-trips a JSON rendering of the activity, tagged with the format, so connector tests can check
 * exactly which bytes and which format travelled without depending on the real encoders.
 */
export const fakeCodec: ActivityCodec & { encoded: ActivityFormat[] } = {
  encoded: [],
  detectFormat(bytes: Uint8Array, fileName?: string): ActivityFormat {
    const ext = fileName?.split('.').pop()?.toLowerCase();
    if (ext === 'fit' || ext === 'tcx' || ext === 'gpx' || ext === 'pwx') return ext;
    return (JSON.parse(Buffer.from(bytes).toString('utf8')) as { format: ActivityFormat }).format;
  },
  decodeActivity(bytes: Uint8Array, format?: ActivityFormat): Activity {
    let parsed: { format: ActivityFormat; activity: Activity };
    try {
      parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as typeof parsed;
    } catch {
      throw new PermanentError('format_malformed', 'fake codec: not an encoded activity');
    }
    return { ...parsed.activity, original: { format: format ?? parsed.format, bytes } };
  },
  encodeActivity(activity: Activity, format: ActivityFormat): Uint8Array {
    fakeCodec.encoded.push(format);
    const { original: _original, ...rest } = activity;
    return new Uint8Array(Buffer.from(JSON.stringify({ format, activity: rest })));
  },
};

export function sampleActivity(overrides: Partial<Activity> = {}): Activity {
  const start = Date.UTC(2024, 4, 1, 6, 0, 0);
  return {
    start,
    end: start + 3_600_000,
    timezone: 'Europe/Berlin',
    type: 'running',
    name: 'Morning run',
    laps: [{ start, end: start + 3_600_000, stats: { distance: 10_000 } }],
    samples: [
      { time: start, lat: 52.5, lon: 13.4, marker: 'start' },
      { time: start + 3_600_000, lat: 52.51, lon: 13.41, marker: 'end' },
    ],
    stats: { distance: 10_000, elapsedTime: 3600 },
    gps: true,
    stationary: false,
    ...overrides,
  };
}
