import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { type Command } from 'commander';
import { ValidationError } from '@tributary/common';
import { type ActivityFormat } from '@tributary/activity';
import { ACTIVITY_FORMATS, decodeActivity, detectFormat, encodeActivity, formatFromFileName } from '@tributary/formats';

export interface ConvertOptions {
  from?: string;
  to?: string;
  json?: boolean;
}

export interface ConvertReport {
  input: string;
  output: string;
  from: ActivityFormat;
  to: ActivityFormat;
  samples: number;
  laps: number;
  bytes: number;
  partial: boolean;
  warnings: string[];
}

function parseFormat(value: string, flag: string): ActivityFormat {
  const f = value.toLowerCase();
  const found = ACTIVITY_FORMATS.find((x) => x === f);
  if (!found) throw new ValidationError(`${flag} must be one of ${ACTIVITY_FORMATS.join(', ')}, not "${value}"`);
  return found;
}

/**
 * `tributary convert <in> <out>`: reads any supported activity file and writes it in the format the flags or the
 * output extension name. Converting to the input's own format copies the bytes unchanged (nothing was modified).
 * Bad input throws FormatError (`format_*`) or ValidationError, which the CLI maps to exit code 2.
 */
export async function runConvert(
  input: string,
  output: string,
  opts: ConvertOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<ConvertReport> {
  const to = opts.to !== undefined ? parseFormat(opts.to, '--to') : formatFromFileName(output);
  if (!to) throw new ValidationError(`cannot tell the output format from "${basename(output)}"; pass --to`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(input));
  } catch (err) {
    throw new ValidationError(`cannot read ${input}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const from = opts.from !== undefined ? parseFormat(opts.from, '--from') : detectFormat(bytes, basename(input));
  const activity = decodeActivity(bytes, from);
  const encoded = encodeActivity(activity, to, { preferOriginal: true });
  try {
    await writeFile(output, encoded);
  } catch (err) {
    throw new ValidationError(`cannot write ${output}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const report: ConvertReport = {
    input,
    output,
    from,
    to,
    samples: activity.samples.length,
    laps: activity.laps.length,
    bytes: encoded.length,
    partial: activity.partial === true,
    warnings: (activity.warnings ?? []).map((w) => `${w.code}: ${w.message}`),
  };
  if (opts.json) out.write(`${JSON.stringify(report)}\n`);
  else {
    out.write(
      `${input} (${from}, ${report.samples} samples, ${report.laps} laps) → ${output} (${to}, ${report.bytes} bytes)\n`,
    );
    if (report.partial) out.write('warning: the input was damaged; only the readable part was converted\n');
    for (const w of report.warnings) out.write(`warning: ${w}\n`);
  }
  return report;
}

export function registerConvertCommand(program: Command): void {
  program
    .command('convert')
    .description('Convert an activity file between FIT, TCX, GPX and PWX')
    .argument('<in>', 'input file')
    .argument('<out>', 'output file')
    .option('--from <format>', `input format (${ACTIVITY_FORMATS.join('|')}); detected from the content by default`)
    .option('--to <format>', `output format (${ACTIVITY_FORMATS.join('|')}); taken from <out>'s extension by default`)
    .action(async (input: string, output: string, opts: ConvertOptions, command: Command) => {
      const globals = command.optsWithGlobals<{ json?: boolean }>();
      await runConvert(input, output, { ...opts, json: globals.json });
    });
}
