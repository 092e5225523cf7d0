import { MIGRATIONS } from './migrations';
import { migrationNames } from './migrator';

describe('migrationNames', () => {
  it('should list every migration once, oldest first, each with up and down', () => {
    const names = migrationNames();
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      expect(name).toMatch(/^\d{13}-[A-Z][A-Za-z0-9]+$/);
      const migration = MIGRATIONS[name];
      expect(typeof migration?.up).toBe('function');
      expect(typeof migration?.down).toBe('function');
    }
    const epochs = names.map((n) => Number(n.slice(0, 13)));
    expect([...epochs].sort((a, b) => a - b)).toEqual(epochs);
  });
});
