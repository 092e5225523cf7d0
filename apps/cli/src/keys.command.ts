import { randomBytes } from 'node:crypto';
import { type Command, InvalidArgumentError } from 'commander';
import { Keyring, PermanentError } from '@tributary/common';
import { loadConfig } from '@tributary/config';
import {
  CredentialsRepository,
  NotificationRepository,
  type RotationReport,
  type SecretRotationReport,
  openDatabase,
} from '@tributary/db';

export interface KeysRotateOptions {
  json?: boolean;
  batchSize?: number;
}

/** Credentials and notification webhook secrets: everything the keyring encrypts. */
export interface KeysRotationReport extends RotationReport {
  webhookSecrets: SecretRotationReport;
}

/** Some secrets could not be re-encrypted; they are listed in the output and left as they were. */
export class RotationIncompleteError extends PermanentError {
  constructor(failed: number) {
    super('keys_rotation_incomplete', `${failed} secret(s) could not be re-encrypted (see above)`);
  }
}

function formatReport(report: KeysRotationReport, keyId: string): string {
  const secrets = report.webhookSecrets;
  const lines = [
    `Re-encrypted ${report.reencrypted} connection(s) under key ${keyId}.`,
    `Already under ${keyId}: ${report.current}. Examined: ${report.scanned}. Failed: ${report.failed.length}.`,
    ...report.failed.map((f) => `  failed: connection ${f.connectionId} (${f.code})`),
    `Re-encrypted ${secrets.reencrypted} of ${secrets.scanned} notification webhook secret(s) under an older key.`,
    ...secrets.failed.map((f) => `  failed: webhook secret of user ${f.userId} (${f.code})`),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * `tributary keys rotate`: re-encrypts every stored credential and webhook signing secret under the first key. Run it after
 * putting a new key first in TRIBUTARY_ENCRYPTION_KEYS; afterwards the old keys can be removed.
 */
export async function runKeysRotate(
  opts: KeysRotateOptions,
  env: NodeJS.ProcessEnv = process.env,
  out: NodeJS.WritableStream = process.stdout,
): Promise<KeysRotationReport> {
  const config = loadConfig(env);
  const keyring = new Keyring(config.encryptionKeys);
  const database = await openDatabase(config.database, { applicationName: 'tributary-cli', poolSize: 2 });
  let report: KeysRotationReport;
  try {
    const credentials = await new CredentialsRepository(database.db).rotateKeys(keyring, { batchSize: opts.batchSize });
    const webhookSecrets = await new NotificationRepository(database.db, keyring).reencryptSecrets(keyring);
    report = { ...credentials, webhookSecrets };
  } finally {
    await database.close();
  }
  out.write(
    opts.json
      ? `${JSON.stringify({ keyId: keyring.currentKeyId, ...report })}\n`
      : formatReport(report, keyring.currentKeyId),
  );
  const failed = report.failed.length + report.webhookSecrets.failed.length;
  if (failed > 0) throw new RotationIncompleteError(failed);
  return report;
}

/** `tributary keys generate`: a fresh random key entry for TRIBUTARY_ENCRYPTION_KEYS. */
export function generateKeyEntry(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new InvalidArgumentError('key id: 1-32 of A-Z a-z 0-9 _ -');
  return `${id}:${randomBytes(32).toString('base64')}`;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('Manage the keys that encrypt stored credentials');
  keys
    .command('rotate')
    .description('Re-encrypt every stored credential under the first key in TRIBUTARY_ENCRYPTION_KEYS')
    .option('--batch-size <n>', 'connections per transaction', positiveInt, 200)
    .action(async (_opts: unknown, cmd: Command) => {
      const { json, batchSize } = cmd.optsWithGlobals<{ json?: boolean; batchSize: number }>();
      await runKeysRotate({ json, batchSize });
    });
  keys
    .command('generate')
    .description('Print a new random key entry (id:base64) to put first in TRIBUTARY_ENCRYPTION_KEYS')
    .argument('[id]', 'key id', `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`)
    .action((id: string, _opts: unknown, cmd: Command) => {
      const entry = generateKeyEntry(id);
      const { json } = cmd.optsWithGlobals<{ json?: boolean }>();
      process.stdout.write(json ? `${JSON.stringify({ id, entry })}\n` : `${entry}\n`);
    });
}
