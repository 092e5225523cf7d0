/**
 * A small Dockerfile reader: enough of the reference grammar (parser directives, comments, `\` line continuations,
 * exec-form JSON arguments, `--flag` options, ARG substitution in FROM) to lint our one Dockerfile without a Docker
 * engine. Heredocs are not supported and are reported as a problem rather than misread.
 */
export interface Instruction {
  /** Upper-cased keyword: FROM, RUN, COPY, … */
  keyword: string;
  /** Everything after the keyword and its `--flags`, continuations joined. */
  args: string;
  flags: Record<string, string>;
  /** The parsed JSON array when the arguments are in exec form. */
  exec?: string[];
  /** 1-based line of the keyword. */
  line: number;
}

export interface Stage {
  /** The base image after ARG substitution, or the name of an earlier stage. */
  from: string;
  name?: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  directives: Record<string, string>;
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: Stage[];
  problems: string[];
}

const DIRECTIVE = /^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/;

function parseFlags(rest: string): { flags: Record<string, string>; args: string } {
  const flags: Record<string, string> = {};
  let remaining = rest;
  for (;;) {
    const m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(remaining);
    if (m === null) break;
    flags[m[1] ?? ''] = m[2] ?? 'true';
    remaining = remaining.slice(m[0].length);
  }
  return { flags, args: remaining.trim() };
}

function parseExec(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(args);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, a?: string, b?: string) => {
    const name = a ?? b ?? '';
    return vars[name] ?? whole;
  });
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = text.split(/\r?\n/);
  const directives: Record<string, string> = {};
  const problems: string[] = [];
  let i = 0;
  // Parser directives are only honoured at the very top, before any comment, blank line or instruction.
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i] ?? '');
    if (m === null) break;
    directives[(m[1] ?? '').toLowerCase()] = m[2] ?? '';
  }
  for (let j = i; j < lines.length; j++) {
    const m = DIRECTIVE.exec(lines[j] ?? '');
    if (m !== null && ['syntax', 'escape', 'check'].includes((m[1] ?? '').toLowerCase())) {
      problems.push(`line ${j + 1}: parser directive "${m[1]}" below the top of the file is only a comment`);
    }
  }

  const instructions: Instruction[] = [];
  let buffer = '';
  let startLine = 0;
  for (; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const trimmed = raw.trim();
    if (buffer === '' && (trimmed === '' || trimmed.startsWith('#'))) continue;
    // Comment lines inside a continuation are dropped by the reference parser, not joined.
    if (buffer !== '' && trimmed.startsWith('#')) continue;
    if (buffer === '') startLine = i + 1;
    if (trimmed.endsWith('\\')) {
      buffer += `${trimmed.slice(0, -1).trimEnd()} `;
      continue;
    }
    buffer += trimmed;
    const m = /^([A-Za-z]+)\s*(.*)$/s.exec(buffer);
    buffer = '';
    if (m === null) {
      problems.push(`line ${startLine}: cannot read instruction`);
      continue;
    }
    const keyword = (m[1] ?? '').toUpperCase();
    const { flags, args } = parseFlags(`${m[2] ?? ''} `);
    if (/<<-?\s*['"]?[A-Za-z]/.test(args))
      problems.push(`line ${startLine}: heredocs are not supported by this linter`);
    instructions.push({ keyword, args, flags, exec: parseExec(args), line: startLine });
  }
  if (buffer !== '') problems.push('the file ends inside a line continuation');

  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (m === null) {
        problems.push(`line ${ins.line}: malformed FROM`);
        continue;
      }
      stages.push({ from: substitute(m[1] ?? '', globalArgs), name: m[2]?.toLowerCase(), instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') problems.push(`line ${ins.line}: ${ins.keyword} before the first FROM`);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(ins.args);
      if (m !== null) globalArgs[m[1] ?? ''] = (m[2] ?? '').replace(/^"(.*)"$/, '$1');
    } else {
      stages[stages.length - 1]?.instructions.push(ins);
    }
  }
  return { directives, globalArgs, stages, problems };
}

/** A `name:tag` reference with an explicit, non-`latest` tag (or a digest). */
export function isPinnedImage(ref: string): boolean {
  if (ref.includes('@sha256:')) return true;
  const lastSegment = ref.slice(ref.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  if (colon < 0) return false;
  const tag = lastSegment.slice(colon + 1);
  return tag !== '' && tag !== 'latest' && !tag.includes('$');
}

const ROOT_USERS = new Set(['root', '0']);

/**
 * Lints the properties the deployment relies on; returns human-readable problems (empty when all hold).
 * `expectedDefaultCmd` is the web entry as `npm run build` lays it out.
 */
export function lintDockerfile(parsed: ParsedDockerfile, expectedDefaultCmd: string[]): string[] {
  const problems = [...parsed.problems];
  const { stages } = parsed;
  if (stages.length < 2) problems.push(`expected a multi-stage build, found ${stages.length} stage(s)`);
  const stageNames = new Set(stages.map((s) => s.name).filter((n): n is string => n !== undefined));
  for (const stage of stages) {
    if (!stageNames.has(stage.from.toLowerCase()) && !isPinnedImage(stage.from)) {
      problems.push(`FROM ${stage.from}: base images need an explicit tag other than latest`);
    }
  }
  const final = stages[stages.length - 1];
  if (final === undefined) return problems;

  const users = final.instructions.filter((i) => i.keyword === 'USER');
  const lastUser = users[users.length - 1];
  if (lastUser === undefined) problems.push('the final stage has no USER: the container would run as root');
  else {
    const user = lastUser.args.split(':')[0] ?? '';
    if (ROOT_USERS.has(user)) problems.push(`the final stage runs as ${lastUser.args}`);
    // Kubernetes runAsNonRoot can only verify a numeric user.
    if (!/^\d+$/.test(user)) problems.push(`USER ${lastUser.args}: use a numeric uid so runAsNonRoot can verify it`);
  }

  for (const keyword of ['CMD', 'ENTRYPOINT']) {
    const found = final.instructions.filter((i) => i.keyword === keyword);
    if (found.length > 1)
      problems.push(`the final stage has ${found.length} ${keyword} instructions; only the last counts`);
    const last = found[found.length - 1];
    if (last === undefined) problems.push(`the final stage has no ${keyword}`);
    else if (last.exec === undefined) {
      problems.push(`${keyword} at line ${last.line} is in shell form: signals would go to /bin/sh, not node`);
    }
  }
  const cmd = final.instructions.filter((i) => i.keyword === 'CMD').pop()?.exec;
  if (cmd !== undefined && JSON.stringify(cmd) !== JSON.stringify(expectedDefaultCmd)) {
    problems.push(`CMD ${JSON.stringify(cmd)} is not the web entry ${JSON.stringify(expectedDefaultCmd)}`);
  }

  for (const stage of stages) {
    for (const ins of stage.instructions) {
      if (ins.keyword === 'ADD' && /^https?:\/\//.test(ins.args)) problems.push(`line ${ins.line}: ADD from a URL`);
      if (ins.keyword === 'COPY' && ins.flags.from !== undefined && !stageNames.has(ins.flags.from.toLowerCase())) {
        problems.push(`line ${ins.line}: COPY --from=${ins.flags.from} names no earlier stage`);
      }
      if (ins.keyword === 'RUN' && /apt-get install(?![^&;]*-y)/.test(ins.args)) {
        problems.push(`line ${ins.line}: apt-get install without -y would hang the build`);
      }
      if (
        ins.keyword === 'RUN' &&
        /apt-get install/.test(ins.args) &&
        !/rm -rf \/var\/lib\/apt\/lists/.test(ins.args)
      ) {
        problems.push(`line ${ins.line}: apt lists are left in the layer`);
      }
    }
  }
  return problems;
}
