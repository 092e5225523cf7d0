import { jobWaitMs, jobWaitsKey } from './job-waits.util';
import { QueueName } from './queue-name.enum';

describe('jobWaitMs', () => {
  it('should count from when the job became runnable, after its delay or backoff', () => {
    expect(jobWaitMs({ timestamp: 1000, delay: 0, attemptsMade: 0 }, 1500)).toBe(500);
    expect(jobWaitMs({ timestamp: 1000, delay: 400, attemptsMade: 0 }, 1500)).toBe(100);
  });

  it('should never be negative, whatever the clocks of producer and worker say', () => {
    expect(jobWaitMs({ timestamp: 2000, delay: 0, attemptsMade: 0 }, 1500)).toBe(0);
    expect(jobWaitMs({ timestamp: 1000, delay: -50, attemptsMade: 0 }, 1000)).toBe(0);
  });
});

describe('jobWaitsKey', () => {
  it('should live in the queue’s own key space, so obliterating the queue removes it', () => {
    expect(jobWaitsKey('tributary', QueueName.Sync)).toBe('tributary:sync:tributary:waits');
  });
});
