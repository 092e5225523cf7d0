import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, envSchema } from '@tributary/config';
import {
  appServices,
  checkCompose,
  composeSchemaValidator,
  environmentOf,
  publishedPorts,
} from './support/compose-checks.util';
import { builtEntryPoints, parseYaml, readRepoFile } from './support/repo.util';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call --
   Manifests and compose files are untyped YAML. Each read either feeds a check that reports a problem when the
   shape is unexpected, or an assertion against a literal, so a wrong shape fails loudly instead of passing. */
type Json = any;

// No Docker engine here: the compose files are parsed and checked against the Compose Specification schema and
// against what the hub's config loader accepts.
const entryPoints = builtEntryPoints();
const load = (file: string): Json => parseYaml(readRepoFile('docker', file));
const clone = <T>(v: T): T => structuredClone(v);

const TEST_KEY = `k1:${Buffer.alloc(32, 9).toString('base64')}`;

/** The environment a compose service's process would see, with its /run/secrets files materialised in `dir`. */
function processEnv(service: Json, dir: string): NodeJS.ProcessEnv {
  const secrets: Record<string, string> = { encryption_keys: TEST_KEY, session_secret: 's'.repeat(48) };
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(environmentOf(service))) {
    const m = /^\/run\/secrets\/(.+)$/.exec(value ?? '');
    if (key.endsWith('_FILE') && m !== null) {
      const file = path.join(dir, m[1] ?? '');
      writeFileSync(file, `${secrets[m[1] ?? ''] ?? ''}\n`);
      env[key] = file;
    } else env[key] = value;
  }
  return env;
}

describe('docker/compose.yml', () => {
  const validate = composeSchemaValidator();
  let sut: Json;
  let dir: string;

  beforeAll(() => {
    sut = load('compose.yml');
    dir = mkdtempSync(path.join(tmpdir(), 'tributary-compose-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('should be valid against the Compose Specification schema', () => {
    expect(validate(sut)).toEqual([]);
  });

  it('should pass the structural checks', () => {
    expect(checkCompose(sut, entryPoints)).toEqual([]);
  });

  it('should run Postgres, Redis, web, worker and the sandbox from one image', () => {
    expect(Object.keys(sut.services)).toEqual(
      expect.arrayContaining(['postgres', 'redis', 'web', 'worker', 'sandbox']),
    );
    expect(appServices(sut).sort()).toEqual(['cli', 'sandbox', 'web', 'worker']);
    expect(sut.services.worker.command[1]).toBe(entryPoints.worker);
    expect(sut.services.sandbox.command[1]).toBe(entryPoints.sandbox);
  });

  it('should configure Redis for BullMQ', () => {
    expect(sut.services.redis.command).toEqual(expect.arrayContaining(['--maxmemory-policy', 'noeviction']));
  });

  it('should publish the web port the app listens on', () => {
    const env = environmentOf(sut.services.web);
    expect(publishedPorts(sut.services.web)).toContainEqual({ host: 3000, container: Number(env.WEB_PORT) });
    expect(env.WEB_HOST).toBe('0.0.0.0');
  });

  it.each(['web', 'worker', 'cli'])('should give %s an environment the config loader accepts', (name) => {
    const config = loadConfig(processEnv(sut.services[name], dir));
    expect(config.database.url).toMatch(/@postgres:5432\//);
    expect(config.redis.url).toBe('redis://redis:6379');
    expect(config.encryptionKeys.map((k) => k.id)).toEqual(['k1']);
    expect(config.web.sessionSecret).toHaveLength(48);
  });

  it('should run every worker role in the worker service', () => {
    expect(loadConfig(processEnv(sut.services.worker, dir)).worker.roles.sort()).toEqual([
      'scheduler',
      'stats',
      'sync',
      'watchdog',
    ]);
  });

  it('should let the sandbox bind on all interfaces at the port its healthcheck probes', () => {
    const config = loadConfig(processEnv(sut.services.sandbox, dir));
    expect(config.sandbox.host).toBe('0.0.0.0');
    expect(sut.services.sandbox.healthcheck.test.join(' ')).toContain(`connect(${config.sandbox.port},`);
  });

  it('should keep secrets out of git', () => {
    const ignore = readRepoFile('docker/secrets/.gitignore').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['*', '!.gitignore', '!README.md']));
  });

  describe('checkCompose', () => {
    it('should report a service without image or build', () => {
      const doc = clone(sut);
      doc.services.extra = { command: ['true'] };
      expect(checkCompose(doc, entryPoints)).toContain('extra: needs image or build');
    });

    it('should report a missing healthcheck on postgres, redis or web', () => {
      for (const name of ['postgres', 'redis', 'web']) {
        const doc = clone(sut);
        delete doc.services[name].healthcheck;
        expect(checkCompose(doc, entryPoints)).toEqual(expect.arrayContaining([`${name}: needs a healthcheck`]));
      }
    });

    it('should report unknown configuration keys and misspelt secrets', () => {
      const doc = clone(sut);
      doc.services.web.environment.STRAVA_CLIENT_SECERT = 'x';
      doc.services.web.environment.SANDBOX_PORT_FILE = '/run/secrets/session_secret';
      expect(checkCompose(doc, entryPoints)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^web: STRAVA_CLIENT_SECERT: not a configuration key/),
          expect.stringMatching(/^web: SANDBOX_PORT_FILE: SANDBOX_PORT is not a secret key/),
        ]),
      );
    });

    it('should report secrets that are referenced but not defined or not granted', () => {
      const doc = clone(sut);
      doc.services.worker.secrets = ['encryption_keys', 'missing'];
      const problems = checkCompose(doc, entryPoints);
      expect(problems).toContain('worker: secret missing is not defined');
      expect(problems).toContain('worker: SESSION_SECRET_FILE reads secret session_secret, not granted to it');
    });

    it('should report unpinned images and start commands outside the build output', () => {
      const doc = clone(sut);
      doc.services.redis.image = 'redis:latest';
      doc.services.web.command = ['node', 'dist/main.js'];
      expect(checkCompose(doc, entryPoints)).toEqual(
        expect.arrayContaining([
          'redis: image redis:latest is not pinned',
          expect.stringMatching(/^web: must start node/),
        ]),
      );
    });

    it('should report waiting for a service that has no healthcheck', () => {
      const doc = clone(sut);
      doc.services.worker.depends_on = { cli: { condition: 'service_healthy' } };
      expect(checkCompose(doc, entryPoints)).toContain(
        'worker: waits for cli to be healthy, but cli has no healthcheck',
      );
    });

    it('should be caught by the schema when a key is misspelt', () => {
      const doc = clone(sut);
      doc.services.web.healthcheck.intervall = '5s';
      expect(validate(doc)).toEqual([expect.stringMatching(/^\/services\/web\/healthcheck: .*\(intervall\)/)]);
    });
  });
});

describe('docker/compose.demo.yml', () => {
  const base: Json = load('compose.yml');
  const sut: Json = load('compose.demo.yml');
  const sandboxPort = environmentOf(base.services.sandbox).SANDBOX_PORT;
  // Every provider endpoint the hub can be pointed at: a new one in env.schema.ts must be added to the demo too.
  const providerUrlKeys = Object.keys(envSchema.shape).filter((k) => /^(STRAVA|GARMIN|DROPBOX)_.*URL$/.test(k));

  it('should be valid against the Compose Specification schema', () => {
    expect(composeSchemaValidator()(sut)).toEqual([]);
  });

  it('should only override services compose.yml defines', () => {
    expect(Object.keys(sut.services).filter((s) => base.services[s] === undefined)).toEqual([]);
  });

  it.each(['web', 'worker', 'cli'])('should point every provider URL of %s at the sandbox', (name) => {
    const env = environmentOf(sut.services[name]);
    expect(providerUrlKeys.length).toBeGreaterThanOrEqual(6);
    for (const key of providerUrlKeys) {
      expect(env[key]).toMatch(new RegExp(`^http://sandbox\\.localhost:${sandboxPort}/`));
    }
  });

  it('should make the sandbox and web reachable under the same names from containers and the browser', () => {
    expect(sut.services.sandbox.networks.default.aliases).toContain('sandbox.localhost');
    expect(sut.services.web.networks.default.aliases).toContain('web.localhost');
    expect(publishedPorts(sut.services.sandbox)).toContainEqual({
      host: Number(sandboxPort),
      container: Number(sandboxPort),
    });
    expect(environmentOf(sut.services.web).TRIBUTARY_PUBLIC_URL).toBe('http://web.localhost:3000');
  });

  it('should merge into an environment the config loader accepts', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tributary-demo-'));
    try {
      for (const name of ['web', 'worker']) {
        const merged = {
          ...base.services[name],
          environment: { ...base.services[name].environment, ...sut.services[name].environment },
        };
        const config = loadConfig(processEnv(merged, dir));
        expect(config.services.strava.baseUrl).toBe(`http://sandbox.localhost:${sandboxPort}/strava`);
        expect(config.services.garmin.ssoUrl).toBe(`http://sandbox.localhost:${sandboxPort}/garmin-sso`);
        expect(config.services.dropbox.contentUrl).toBe(`http://sandbox.localhost:${sandboxPort}/dropbox-content`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('compose overrides spelled out in docs/runbook.md', () => {
  const base: Json = load('compose.yml');
  const snippets = [...readRepoFile('docs/runbook.md').matchAll(/```yaml\n(# docker\/[\w.-]+\.yml\n[\s\S]*?)```/g)].map(
    (m) => m[1] ?? '',
  );

  it('should be valid overrides of compose.yml that keep every worker role running exactly once', () => {
    expect(snippets.length).toBeGreaterThan(0);
    const validate = composeSchemaValidator();
    const dir = mkdtempSync(path.join(tmpdir(), 'tributary-snippet-'));
    try {
      for (const text of snippets) {
        const doc: Json = parseYaml(text);
        expect(validate(doc)).toEqual([]);
        const services: Record<string, Json> = { ...base.services };
        for (const [name, service] of Object.entries(doc.services as Record<string, Json>)) {
          const origin = base.services[name] ?? base.services[service.extends?.service];
          expect(origin).toBeDefined();
          services[name] = {
            ...origin,
            ...service,
            environment: { ...environmentOf(origin), ...environmentOf(service) },
          };
        }
        const roles = Object.values(services)
          .filter((svc) => environmentOf(svc).WORKER_ROLES !== undefined)
          .flatMap((svc) => loadConfig(processEnv(svc, dir)).worker.roles);
        expect(roles.sort()).toEqual(['scheduler', 'stats', 'sync', 'watchdog']);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
