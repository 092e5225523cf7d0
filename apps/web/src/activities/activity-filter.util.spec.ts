import { decodeCursor, encodeCursor, filterQuery, parseFilter } from './activity-filter.util';

describe('parseFilter', () => {
  it('should read dates as whole UTC days with an inclusive end', () => {
    const { filter, problems } = parseFilter({ from: '2024-05-01', to: '2024-05-31', status: 'missing' });
    expect(problems).toEqual([]);
    expect(filter.from).toEqual(new Date('2024-05-01T00:00:00Z'));
    expect(filter.to).toEqual(new Date('2024-06-01T00:00:00Z'));
    expect(filter.status).toBe('missing');
  });

  it('should drop unusable values with a problem each instead of narrowing the list', () => {
    const { filter, form, problems } = parseFilter({
      from: '2024-02-30',
      status: 'deleted',
      after: 'garbage',
      limit: '1000',
    });
    expect(filter).toEqual({});
    expect(form.from).toBe('2024-02-30');
    expect(problems).toHaveLength(4);
    expect(parseFilter({ from: '2024-05-10', to: '2024-05-01' }).filter).toEqual({});
  });

  it('should ignore non-string query values (repeated parameters)', () => {
    expect(parseFilter({ type: ['a', 'b'] }).filter).toEqual({});
  });

  it('should round-trip a cursor and keep the filter in page links', () => {
    const cursor = { startAt: new Date('2024-05-01T06:00:00.123Z'), id: '6f1c1f47-52c4-4b8e-9a51-9a8f3d1a2b3c' };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    expect(decodeCursor(Buffer.from('2024-05-01|not-a-uuid').toString('base64url'))).toBeUndefined();
    const { form } = parseFilter({ type: 'running', service: 'strava', status: 'synced' });
    const q = new URLSearchParams(filterQuery(form, cursor).slice(1));
    expect(Object.fromEntries(q)).toEqual({
      type: 'running',
      service: 'strava',
      status: 'synced',
      after: encodeCursor(cursor),
    });
    expect(filterQuery(parseFilter({}).form)).toBe('');
  });
});
