import { existsSync } from 'node:fs';
import { isPinnedImage, lintDockerfile, parseDockerfile, type ParsedDockerfile } from './support/dockerfile.util';
import { builtEntryPoints, envKeyProblem, readRepoFile, repoPath } from './support/repo.util';

// There is no Docker engine on our machines: these tests read docker/Dockerfile as text and check what the
// deployment relies on (non-root, exec-form start, pinned bases, the dist layout `npm run build` produces).
const WEB_CMD = ['node', builtEntryPoints().web ?? 'missing'];

function lint(text: string): string[] {
  return lintDockerfile(parseDockerfile(text), WEB_CMD);
}

const GOOD = [
  '# syntax=docker/dockerfile:1.7',
  'ARG NODE_IMAGE=node:20.20-bookworm-slim',
  'FROM ${NODE_IMAGE} AS build',
  'RUN npm ci',
  'FROM ${NODE_IMAGE} AS runtime',
  'COPY --from=build /app/dist ./dist',
  'USER 1000:1000',
  'ENTRYPOINT ["/usr/bin/tini", "--"]',
  `CMD ${JSON.stringify(WEB_CMD)}`,
].join('\n');

describe('docker/Dockerfile', () => {
  let sut: ParsedDockerfile;

  beforeAll(() => {
    sut = parseDockerfile(readRepoFile('docker/Dockerfile'));
  });

  it('should pass every lint rule', () => {
    expect(lintDockerfile(sut, WEB_CMD)).toEqual([]);
  });

  it('should build in several stages and ship only the runtime stage', () => {
    expect(sut.stages.length).toBeGreaterThanOrEqual(2);
    const runtime = sut.stages[sut.stages.length - 1];
    const copies = runtime?.instructions.filter((i) => i.keyword === 'COPY') ?? [];
    expect(copies.length).toBeGreaterThan(0);
    // Everything the runtime gets comes from the build stage: no sources, no dev dependencies.
    expect(copies.every((c) => c.flags.from === 'build')).toBe(true);
    expect(copies.map((c) => c.args.split(/\s+/)[0])).toEqual(
      expect.arrayContaining(['/app/node_modules', '/app/dist', '/app/bin']),
    );
  });

  it('should prune dev dependencies after the build', () => {
    const build = sut.stages.find((s) => s.name === 'build');
    expect(build?.instructions.some((i) => i.keyword === 'RUN' && /npm run build/.test(i.args))).toBe(true);
    expect(build?.instructions.some((i) => i.keyword === 'RUN' && /npm prune --omit=dev/.test(i.args))).toBe(true);
  });

  it('should keep the syntax directive on the first line', () => {
    expect(sut.directives.syntax).toMatch(/^docker\/dockerfile:1(\.\d+)?$/);
    expect(sut.problems).toEqual([]);
  });

  it('should expose the web and sandbox ports the compose file and manifests use', () => {
    const expose = sut.stages[sut.stages.length - 1]?.instructions.find((i) => i.keyword === 'EXPOSE');
    expect(expose?.args.split(/\s+/)).toEqual(['3000', '4000']);
  });

  it('should only bake in environment variables the config loader knows', () => {
    const runtime = sut.stages[sut.stages.length - 1];
    const keys = (runtime?.instructions ?? [])
      .filter((i) => i.keyword === 'ENV')
      .flatMap((i) => [...i.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1] ?? ''));
    expect(keys).toEqual(expect.arrayContaining(['NODE_ENV', 'WEB_HOST', 'TRIBUTARY_DATA_DIR']));
    expect(keys.map(envKeyProblem).filter((p) => p !== undefined)).toEqual([]);
  });

  it('should keep build context exclusions next to the Dockerfile', () => {
    const ignore = readRepoFile('docker/Dockerfile.dockerignore').split('\n');
    for (const entry of ['.git', '**/node_modules', 'dist', '.data', 'docker/secrets', '.env']) {
      expect(ignore).toContain(entry);
    }
  });

  it('should copy a CLI launcher that exists and targets the built CLI', () => {
    expect(existsSync(repoPath('bin/tributary'))).toBe(true);
    expect(readRepoFile('bin/tributary').replace(/['",\s]/g, '')).toContain(
      (builtEntryPoints().cli ?? 'missing').split('/').join(''),
    );
  });

  describe('lintDockerfile', () => {
    it('should accept a minimal compliant file', () => {
      expect(lint(GOOD)).toEqual([]);
    });

    it('should reject a single-stage build', () => {
      expect(lint(GOOD.replace('FROM ${NODE_IMAGE} AS build\nRUN npm ci\n', '').replace('--from=build ', ''))).toEqual(
        expect.arrayContaining([expect.stringMatching(/multi-stage/)]),
      );
    });

    it('should reject a final stage without USER or running as root', () => {
      expect(lint(GOOD.replace('USER 1000:1000', ''))).toEqual([expect.stringMatching(/no USER/)]);
      expect(lint(GOOD.replace('USER 1000:1000', 'USER root'))).toEqual(
        expect.arrayContaining([expect.stringMatching(/runs as root/)]),
      );
      expect(lint(GOOD.replace('USER 1000:1000', 'USER node'))).toEqual([expect.stringMatching(/numeric uid/)]);
    });

    it('should reject shell-form CMD and ENTRYPOINT', () => {
      expect(lint(GOOD.replace(/^CMD .*$/m, `CMD ${WEB_CMD.join(' ')}`))).toEqual(
        expect.arrayContaining([expect.stringMatching(/CMD at line \d+ is in shell form/)]),
      );
      expect(lint(GOOD.replace(/^ENTRYPOINT .*$/m, 'ENTRYPOINT /usr/bin/tini --'))).toEqual([
        expect.stringMatching(/ENTRYPOINT .* shell form/),
      ]);
    });

    it('should reject a start command that is not where the build puts the web app', () => {
      expect(lint(GOOD.replace(/^CMD .*$/m, 'CMD ["node", "dist/apps/web/main.js"]'))).toEqual([
        expect.stringMatching(/not the web entry/),
      ]);
    });

    it('should reject latest and untagged base images, also through ARG defaults', () => {
      expect(lint(GOOD.replace('node:20.20-bookworm-slim', 'node:latest'))).toHaveLength(2);
      expect(lint(GOOD.replace('node:20.20-bookworm-slim', 'node'))).toHaveLength(2);
    });

    it('should reject a syntax directive that is not on the first line', () => {
      expect(lint(`# a comment\n${GOOD}`)).toEqual([expect.stringMatching(/parser directive "syntax"/)]);
    });

    it('should reject COPY --from a stage that does not exist and non-interactive-unsafe apt use', () => {
      expect(lint(GOOD.replace('--from=build', '--from=builder'))).toEqual([expect.stringMatching(/names no earlier/)]);
      const apt = GOOD.replace('RUN npm ci', 'RUN apt-get update && apt-get install tini');
      expect(lint(apt)).toEqual(
        expect.arrayContaining([expect.stringMatching(/without -y/), expect.stringMatching(/apt lists/)]),
      );
    });

    it('should join continuation lines and skip comments inside them', () => {
      const parsed = parseDockerfile('FROM node:20 AS a\nRUN one \\\n  # note\n  && two\n');
      expect(parsed.stages[0]?.instructions[0]).toMatchObject({ keyword: 'RUN', args: 'one && two', line: 2 });
    });
  });

  describe('isPinnedImage', () => {
    it.each([
      ['node:20.20-bookworm-slim', true],
      ['registry.example.com:5000/tributary:0.1.0', true],
      ['postgres@sha256:0123abcd', true],
      ['node', false],
      ['node:latest', false],
      ['registry.example.com:5000/tributary', false],
      ['node:${TAG}', false],
    ])('should classify %s as pinned=%s', (ref, pinned) => {
      expect(isPinnedImage(ref)).toBe(pinned);
    });
  });
});
