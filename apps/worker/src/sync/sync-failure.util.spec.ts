import { PermanentError } from '@tributary/common';
import {
  AccountFullError,
  AuthRevokedError,
  DuplicateAtDestinationError,
  RateLimitedError,
  UploadStillProcessingError,
  UpstreamUnavailableError,
} from '@tributary/connectors';
import { classifyFailure, duplicateRemoteId } from './sync-failure.util';

class RejectedUpload extends PermanentError {
  constructor() {
    super('upstream_rejected', 'bad file');
  }
}

describe('classifyFailure', () => {
  it('should make a revoked authorisation a blocking connection-level auth failure', () => {
    const sut = classifyFailure(new AuthRevokedError('strava', 'token revoked'), 'list');
    expect(sut).toMatchObject({ type: 'auth', connectionLevel: true, blocking: true, uncounted: false });
  });

  it('should not count rate limits and keep their wait', () => {
    const sut = classifyFailure(new RateLimitedError('strava', 90_000), 'upload');
    expect(sut).toMatchObject({ type: 'ratelimited', connectionLevel: true, blocking: false, uncounted: true });
    expect(sut.retryAfterMs).toBe(90_000);
  });

  it('should treat a full account as blocking with its own intervention kind', () => {
    expect(classifyFailure(new AccountFullError('dropbox'), 'upload')).toMatchObject({ type: 'full', blocking: true });
  });

  it('should count an upstream outage against the activity and keep the reservation (it may have landed)', () => {
    const sut = classifyFailure(new UpstreamUnavailableError('garmin_connect', 'HTTP 500', 500), 'upload');
    expect(sut).toMatchObject({ type: 'upload', connectionLevel: false, uncounted: false, outcomeUnknown: true });
  });

  it('should release the reservation of an upload the service definitely refused', () => {
    expect(classifyFailure(new RejectedUpload(), 'upload')).toMatchObject({ type: 'upload', outcomeUnknown: false });
  });

  it('should not count an upload still processing', () => {
    const sut = classifyFailure(new UploadStillProcessingError('strava', '42'), 'upload');
    expect(sut).toMatchObject({ uncounted: true, outcomeUnknown: true });
  });

  it('should name the step for unknown failures', () => {
    expect(classifyFailure(new TypeError('boom'), 'download')).toMatchObject({ type: 'download', message: 'boom' });
    expect(classifyFailure('odd', 'list')).toMatchObject({ type: 'system', message: 'odd' });
  });
});

describe('duplicateRemoteId', () => {
  it('should return the existing id of a duplicate and nothing for other errors', () => {
    expect(duplicateRemoteId(new DuplicateAtDestinationError('strava', '77'))).toBe('77');
    expect(duplicateRemoteId(new RejectedUpload())).toBeUndefined();
  });
});
