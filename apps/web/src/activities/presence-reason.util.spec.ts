import { type ActivityPresenceView } from '@tributary/db';
import { describePresence } from './presence-reason.util';

function row(over: Partial<ActivityPresenceView>): ActivityPresenceView {
  return {
    connectionId: 'c',
    service: 'garmin_connect',
    state: 'missing',
    reasonCode: null,
    reasonDetail: null,
    remoteId: null,
    failureCount: 0,
    nextAttemptAt: null,
    uploadedAt: null,
    updatedAt: new Date(0),
    ...over,
  };
}

describe('describePresence', () => {
  it("should turn the planner's skip reasons into plain language", () => {
    const flow = describePresence(row({ state: 'excluded', reasonCode: 'flow' }));
    expect(flow).toEqual({
      state: 'excluded',
      label: 'Not copied',
      why: 'You turned off copying between these services (send to / receive from settings).',
    });
    expect(describePresence(row({ state: 'excluded', reasonCode: 'type_unsupported' })).why).toContain(
      'does not accept this type',
    );
    expect(describePresence(row({ state: 'excluded', reasonCode: 'something_new' })).why).toBe(
      'Not copied (something_new).',
    );
  });

  it('should say how often copying failed, why, and when it is tried again', () => {
    const text = describePresence(
      row({
        state: 'failed',
        reasonCode: 'upload',
        reasonDetail: 'HTTP 500',
        failureCount: 3,
        nextAttemptAt: new Date('2024-05-01T10:30:00Z'),
      }),
    );
    expect(text.state).toBe('missing');
    expect(text.why).toBe(
      'Copying failed after 3 attempts: the service refused or did not answer the upload (HTTP 500). ' +
        'The next try is after 2024-05-01 10:30 UTC.',
    );
  });

  it('should explain waiting and present states', () => {
    expect(
      describePresence(row({ state: 'pending', reasonCode: 'upload_delay', nextAttemptAt: new Date('2024-05-01Z') }))
        .why,
    ).toBe('Your upload delay holds it back; it is copied after 2024-05-01 00:00 UTC.');
    expect(describePresence(row({ state: 'present', reasonCode: 'source' })).why).toBe('The activity came from here.');
    expect(
      describePresence(row({ state: 'present', reasonCode: 'uploaded', uploadedAt: new Date('2024-05-02T08:00Z') }))
        .why,
    ).toBe('Copied here by the hub on 2024-05-02.');
  });
});
