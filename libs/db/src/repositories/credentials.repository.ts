import { type Kysely } from 'kysely';
import { type Keyring, isDomainError } from '@tributary/common';
import { type DB } from '../schema';

export interface RotationReport {
  /** Connections holding credentials under some other key, looked at. */
  scanned: number;
  reencrypted: number;
  /** Already under the current key: untouched. */
  current: number;
  /** Could not be decrypted (unknown key, tampering); left as they are. */
  failed: { connectionId: string; code: string }[];
}

/**
 * System-wide credential maintenance (not user-scoped: an operator action over every connection).
 */
export class CredentialsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Re-encrypts every connection's credentials under the keyring's current key, in batches, each batch in its own
   * transaction with the rows locked, so a token refresh racing with rotation is neither lost nor overwritten.
   * Walks by id (keyset), so rows that fail stay behind without stopping the run, and re-running is a no-op for
   * rows already done.
   */
  async rotateKeys(keyring: Keyring, opts: { batchSize?: number } = {}): Promise<RotationReport> {
    const batchSize = opts.batchSize ?? 200;
    const report: RotationReport = { scanned: 0, reencrypted: 0, current: 0, failed: [] };
    const current = await this.db
      .selectFrom('connections')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('credentials_key_id', '=', keyring.currentKeyId)
      .executeTakeFirstOrThrow();
    report.current = Number(current.n);
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const batch = await this.db.transaction().execute(async (trx) => {
        const rows = await trx
          .selectFrom('connections')
          .select(['id', 'credentials_ciphertext'])
          .where('credentials_key_id', 'is not', null)
          .where('credentials_key_id', '<>', keyring.currentKeyId)
          .where('id', '>', after)
          .orderBy('id')
          .limit(batchSize)
          .forUpdate()
          .execute();
        for (const row of rows) {
          if (row.credentials_ciphertext === null) continue;
          let fresh: string;
          try {
            fresh = keyring.reencrypt(row.credentials_ciphertext);
          } catch (err) {
            if (!isDomainError(err)) throw err;
            report.failed.push({ connectionId: row.id, code: err.code });
            continue;
          }
          await trx
            .updateTable('connections')
            .set({ credentials_ciphertext: fresh, credentials_key_id: keyring.currentKeyId })
            .where('id', '=', row.id)
            .execute();
          report.reencrypted += 1;
        }
        return rows;
      });
      report.scanned += batch.length;
      const last = batch[batch.length - 1];
      if (last === undefined || batch.length < batchSize) break;
      after = last.id;
    }
    return report;
  }
}
