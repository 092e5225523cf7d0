import { ConfigError } from '../errors/domain.error';
import { type OwnedResource, closeOwnedResources } from './owned-resource.util';

describe(closeOwnedResources.name, () => {
  it('should close in reverse order, report a failure and still close the rest', async () => {
    const closed: string[] = [];
    const failed: string[] = [];
    const resource = (name: string, fail = false): OwnedResource => ({
      name,
      close: () => {
        closed.push(name);
        return fail ? Promise.reject(new ConfigError('boom')) : Promise.resolve();
      },
    });
    const resources = [resource('redis'), resource('postgres', true), resource('http')];
    await closeOwnedResources(resources, (_err, r) => failed.push(r.name));
    expect(closed).toEqual(['http', 'postgres', 'redis']);
    expect(failed).toEqual(['postgres']);
    expect(resources.map((r) => r.name)).toEqual(['redis', 'postgres', 'http']);
  });
});
