import { type Activity, type Sample, ancestry } from '@tributary/activity';
import { FormatError } from '../format.error';
import { assertEncodable, assignSamplesToLaps } from '../xml/activity-stats.util';
import {
  RANGES,
  decimalText,
  formatDateTime,
  formatDecimal,
  integerWithin,
  longitudeText,
} from '../xml/xml-values.util';
import { type XmlTree, writeXml } from '../xml/xml-writer.util';

/*
 * Activity → GPX 1.1 with Garmin TrackPointExtension v2 (atemp, hr, cad, speed) and PowerExtension v1
 * (PowerInWatts), valid against gpx.xsd + those extension XSDs.
 *
 * - One <trkseg> per lap (read back as one lap per segment). Pauses inside a lap cannot be shown separately and
 *   are lost; so are lap triggers, intensities and lap figures, which are recomputed on reading.
 * - A point needs a position: samples without lat/lon are left out, and an activity with no positioned sample is
 *   refused ('unencodable') rather than written as an empty or Null-Island track.
 * - <type> is the canonical type name (e.g. 'running'), which the decoder maps back.
 * - cad holds one foot for on-foot sports (runCadence ÷ 2, rounded), bike cadence otherwise.
 * - Samples sharing a timestamp are merged into one point; NaN, infinite or implausible values are left out.
 * - Cannot be carried (lost): course/bearing, cumulative distance (recomputed from positions), calories, device details other than
 *   its name (written as the creator), HR 0, cadence > 254.
 */

const GPX_NS = 'http://www.topografix.com/GPX/1/1';
const TPX_NS = 'http://www.garmin.com/xmlschemas/TrackPointExtension/v2';
const PWR_NS = 'http://www.garmin.com/xmlschemas/PowerExtension/v1';
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
const FORMAT = 'gpx';

export function encodeGpx(activity: Activity): Uint8Array {
  assertEncodable(activity, FORMAT);
  const naive = activity.naive === true;
  const onFoot = ancestry(activity.type).includes('on_foot');
  const segments = assignSamplesToLaps(activity)
    .map(({ samples }) => samples.filter(hasPosition))
    .filter((points) => points.length > 0)
    .map((points) => ({ trkpt: points.map((s) => encodePoint(s, naive, onFoot)) }));
  if (segments.length === 0) {
    throw new FormatError(FORMAT, 'unencodable', 'GPX needs positions and this activity has none (indoor?)');
  }
  const creator = activity.device?.name?.trim() || 'Tributary';
  return writeXml('gpx', {
    '@_version': '1.1',
    '@_creator': creator,
    '@_xmlns': GPX_NS,
    '@_xmlns:gpxtpx': TPX_NS,
    '@_xmlns:pwr': PWR_NS,
    '@_xmlns:xsi': XSI_NS,
    '@_xsi:schemaLocation': `${GPX_NS} http://www.topografix.com/GPX/1/1/gpx.xsd ${TPX_NS} http://www.garmin.com/xmlschemas/TrackPointExtensionv2.xsd ${PWR_NS} http://www.garmin.com/xmlschemas/PowerExtensionv1.xsd`,
    metadata: {
      name: activity.name,
      desc: activity.notes,
      time: formatDateTime(activity.start, naive),
    },
    trk: [
      {
        name: activity.name,
        desc: activity.notes,
        type: activity.type,
        trkseg: segments,
      },
    ],
  });
}

function hasPosition(s: Sample): boolean {
  return s.lat !== undefined && s.lon !== undefined && Math.abs(s.lat) <= 90 && Math.abs(s.lon) <= 180;
}

function encodePoint(s: Sample, naive: boolean, onFoot: boolean): XmlTree {
  const half = s.runCadence === undefined ? undefined : s.runCadence / 2;
  const cad = onFoot ? (half ?? s.cadence) : (s.cadence ?? half);
  const tpx: XmlTree = {
    'gpxtpx:atemp': decimalText(s.temperature, 2, RANGES.temperature),
    'gpxtpx:hr': text(integerWithin(s.heartRate, 1, 255)),
    'gpxtpx:cad': text(integerWithin(cad, 0, 254)),
    'gpxtpx:speed': decimalText(s.speed, 3, RANGES.speed),
  };
  const power = integerWithin(s.power, 0, 65535);
  const hasTpx = Object.values(tpx).some((v) => v !== undefined);
  const extensions: XmlTree = {
    'pwr:PowerInWatts': text(power),
    'gpxtpx:TrackPointExtension': hasTpx ? tpx : undefined,
  };
  return {
    '@_lat': formatDecimal(s.lat!, 8),
    '@_lon': longitudeText(s.lon!),
    ele: decimalText(s.altitude, 2, RANGES.altitude),
    time: formatDateTime(s.time, naive),
    extensions: power !== undefined || hasTpx ? extensions : undefined,
  };
}

function text(value: number | undefined): string | undefined {
  return value === undefined ? undefined : String(value);
}
