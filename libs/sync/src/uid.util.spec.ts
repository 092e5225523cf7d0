import { calculateUid, formatWallClock, normalizeExternalId, uidFromWallClock } from './uid.util';

describe('formatWallClock', () => {
  it('should format as YYYY-MM-DD HH:mm:ss and drop sub-seconds', () => {
    expect(formatWallClock(Date.UTC(2024, 4, 1, 8, 0, 5, 999))).toBe('2024-05-01 08:00:05');
    expect(formatWallClock(Date.UTC(1999, 11, 31, 23, 59, 59))).toBe('1999-12-31 23:59:59');
  });
});

describe('uidFromWallClock', () => {
  it('should be the MD5 of the formatted wall clock, byte-identical to tapiriik', () => {
    // hashlib.md5(b'2024-05-01 08:00:05').hexdigest()
    expect(uidFromWallClock(Date.UTC(2024, 4, 1, 8, 0, 5, 400))).toBe('02d77c849a34659a462f7b5ef4e15cd6');
  });
});

describe('calculateUid', () => {
  const wall = Date.UTC(2024, 4, 1, 8, 0, 5);

  it('should give the same UID to a zoned instant and a naive copy of the same local start', () => {
    const zoned = { start: Date.UTC(2024, 4, 1, 12, 0, 5), timezone: 'America/New_York' };
    const naive = { start: wall, naive: true };
    expect(calculateUid(zoned)).toBe(uidFromWallClock(wall));
    expect(calculateUid(naive)).toBe(uidFromWallClock(wall));
  });

  it('should give undefined for an instant without a zone (its wall clock is unknown)', () => {
    expect(calculateUid({ start: wall })).toBeUndefined();
  });
});

describe('normalizeExternalId', () => {
  it.each([
    ['garmin_push_12345', 'garmin_push_12345'],
    ['garmin_push_12345.fit', 'garmin_push_12345'],
    ['  Garmin_Ping_492266071674.FIT ', 'garmin_ping_492266071674'],
    ['/Apps/tributary/2024-05-01_08-00-05_Morning Run.tcx', '2024-05-01_08-00-05_morning run'],
    ['C:\\exports\\2024-05-01-run.gpx.gz', '2024-05-01-run'],
  ])('should normalise %p to %p', (raw, id) => {
    expect(normalizeExternalId(raw)).toBe(id);
  });

  it.each([['1.fit'], ['run'], ['activity.fit'], ['Activity_2.tcx'], ['workout']])(
    'should drop the generic id %p',
    (raw) => {
      expect(normalizeExternalId(raw)).toBeUndefined();
    },
  );
});
