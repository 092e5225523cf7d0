import { type ListedActivity, type MergedActivity } from '@tributary/sync';
import { connectorIdOf, withoutOwnCopiesPrivacy } from './sync-user.service';

function listing(connectionId: string, isPrivate: boolean): ListedActivity {
  return {
    connectionId,
    service: connectionId,
    summary: { remoteId: `${connectionId}-1`, start: 0, type: 'running', private: isPrivate },
  };
}

function merged(sources: ListedActivity[]): MergedActivity {
  return {
    uid: 'uid-1',
    uids: ['uid-1'],
    externalIds: [],
    start: 0,
    type: 'running',
    private: sources.some((s) => s.summary.private === true),
    complete: true,
    presence: sources.map((s) => ({
      connectionId: s.connectionId,
      service: s.service,
      remoteIds: [s.summary.remoteId],
    })),
    sources,
  };
}

describe('withoutOwnCopiesPrivacy', () => {
  it('should ignore the privacy of a copy the hub uploaded', () => {
    const sut = withoutOwnCopiesPrivacy(
      merged([listing('strava', false), listing('garmin', true)]),
      new Map([['garmin', new Set(['uid-1'])]]),
    );
    expect(sut.private).toBe(false);
  });

  it('should keep an activity private when the user recorded it private', () => {
    const sut = withoutOwnCopiesPrivacy(
      merged([listing('strava', true), listing('garmin', true)]),
      new Map([['garmin', new Set(['uid-1'])]]),
    );
    expect(sut.private).toBe(true);
  });

  it('should keep the flag when every copy is ours (nothing else to judge by)', () => {
    const sut = withoutOwnCopiesPrivacy(merged([listing('garmin', true)]), new Map([['garmin', new Set(['uid-1'])]]));
    expect(sut.private).toBe(true);
  });

  it('should leave activities without uploads alone', () => {
    const activity = merged([listing('strava', false), listing('garmin', true)]);
    expect(withoutOwnCopiesPrivacy(activity, new Map())).toBe(activity);
  });
});

describe('connectorIdOf', () => {
  it('should map the database spelling of a service to the connector id', () => {
    expect(connectorIdOf('garmin-connect')).toBe('garmin_connect');
    expect(connectorIdOf('garmin_connect')).toBe('garmin_connect');
    expect(connectorIdOf('strava')).toBe('strava');
  });
});
