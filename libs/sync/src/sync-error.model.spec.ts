import {
  USER_EXCEPTION_RULES,
  blockedConnections,
  carryOverToNextSync,
  clearInterventionGroup,
  clearOnReconnect,
  indexExclusions,
  isAccountBlocked,
  makeExclusion,
  makeSyncError,
  needsExhaustiveSync,
} from './sync-error.model';

const AT = Date.UTC(2024, 5, 1);

describe('makeSyncError', () => {
  it.each([
    ['auth', 'connection', true, 'reauth'],
    ['renew_password', 'connection', true, 'reauth'],
    ['full', 'connection', true, 'account_full'],
    ['upload_consent', 'connection', true, 'upload_consent'],
    ['download', 'activity', false, undefined],
    ['ratelimited', 'connection', false, undefined],
  ] as const)('should classify %s as %s scope, blocking=%p, group %p', (type, scope, blocking, intervention) => {
    const sut = makeSyncError({ step: 'upload', type, message: 'x', at: AT, connectionId: 'c1' });
    expect(sut).toMatchObject({ scope, blocking, triggerExhaustive: blocking });
    expect(sut.intervention).toBe(intervention);
  });

  it('should let the caller widen the scope to the account', () => {
    expect(makeSyncError({ step: 'list', type: 'auth', message: 'x', at: AT, scope: 'account' }).scope).toBe('account');
  });
});

describe('makeExclusion', () => {
  it('should exclude permanently, until the next sync, or not at all depending on the kind', () => {
    const input = { connectionId: 'c1', activityKey: 'k', at: AT };
    expect(makeExclusion({ ...input, type: 'corrupt' })?.permanent).toBe(true);
    expect(makeExclusion({ ...input, type: 'live' })?.permanent).toBe(false);
    expect(makeExclusion({ ...input, type: 'tz_unknown' })?.permanent).toBe(false);
    expect(makeExclusion({ ...input, type: 'download' })).toBeUndefined();
  });

  it('should have a rule for every kind', () => {
    for (const rule of Object.values(USER_EXCEPTION_RULES))
      expect(['account', 'connection', 'activity']).toContain(rule.scope);
  });
});

describe('carryOverToNextSync', () => {
  it('should keep blocking errors and permanent exclusions only', () => {
    const blocking = makeSyncError({ step: 'list', type: 'auth', message: 'a', at: AT, connectionId: 'c1' });
    const transient = makeSyncError({ step: 'download', type: 'download', message: 'b', at: AT, connectionId: 'c1' });
    const permanent = makeExclusion({ connectionId: 'c1', activityKey: 'k1', type: 'sanity', at: AT })!;
    const live = makeExclusion({ connectionId: 'c1', activityKey: 'k2', type: 'live', at: AT })!;
    expect(carryOverToNextSync([blocking, transient], [permanent, live])).toEqual({
      errors: [blocking],
      exclusions: [permanent],
    });
  });
});

describe('clearing errors', () => {
  const auth = makeSyncError({ step: 'list', type: 'auth', message: 'a', at: AT, connectionId: 'c1' });
  const full = makeSyncError({ step: 'upload', type: 'full', message: 'f', at: AT, connectionId: 'c1' });
  const otherAuth = makeSyncError({ step: 'list', type: 'auth', message: 'a', at: AT, connectionId: 'c2' });

  it('should clear re-auth errors of the reconnected connection only', () => {
    expect(clearOnReconnect([auth, full, otherAuth], 'c1')).toEqual([full, otherAuth]);
  });

  it('should clear one intervention group on one connection', () => {
    expect(clearInterventionGroup([auth, full, otherAuth], 'c1', 'account_full')).toEqual([auth, otherAuth]);
  });

  it('should derive blocked connections, account blocks and exhaustive syncs', () => {
    const account = makeSyncError({ step: 'list', type: 'locked', message: 'l', at: AT, scope: 'account' });
    expect([...blockedConnections([auth, otherAuth])].sort()).toEqual(['c1', 'c2']);
    expect(isAccountBlocked([auth])).toBe(false);
    expect(isAccountBlocked([account])).toBe(true);
    expect(needsExhaustiveSync([auth])).toBe(true);
    expect(needsExhaustiveSync([makeSyncError({ step: 'upload', type: 'upload', message: 'u', at: AT })])).toBe(false);
  });
});

describe('indexExclusions', () => {
  it('should index by connection then activity key', () => {
    const x = makeExclusion({ connectionId: 'c1', activityKey: 'k1', type: 'corrupt', at: AT })!;
    expect(indexExclusions([x]).get('c1')?.get('k1')).toBe(x);
  });
});
