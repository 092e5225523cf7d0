import { ancestry, areTypesCompatible, familyOf, mostSpecificType, nearestSupportedType } from './activity-type';

describe('activity types', () => {
  it.each([
    ['mountain_biking', 'cycling', true],
    ['running', 'hiking', true],
    ['virtual_ride', 'road_cycling', true],
    ['running', 'cycling', false],
    ['pool_swimming', 'other', true],
    ['yoga', 'running', false],
  ] as const)('should say %s ≈ %s is %s', (a, b, expected) => {
    expect(areTypesCompatible(a, b)).toBe(expected);
  });

  it('should walk the ancestry to other', () => {
    expect(ancestry('e_mountain_biking')).toEqual(['e_mountain_biking', 'mountain_biking', 'cycling', 'other']);
    expect(familyOf('hiking')).toBe('on_foot');
  });

  it('should prefer the more specific type', () => {
    expect(mostSpecificType('cycling', 'mountain_biking')).toBe('mountain_biking');
    expect(mostSpecificType('trail_running', 'running')).toBe('trail_running');
  });

  it('should fall back to the nearest accepted ancestor', () => {
    expect(nearestSupportedType('virtual_ride', new Set(['cycling', 'running'] as const))).toBe('cycling');
    expect(nearestSupportedType('yoga', new Set(['cycling'] as const))).toBeUndefined();
  });
});
