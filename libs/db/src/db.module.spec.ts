import { Test } from '@nestjs/testing';
import { Kysely, PostgresDialect } from 'kysely';
import { Pool } from 'pg';
import { type Database } from './database';
import { DATABASE, DbModule } from './db.module';
import { ConnectionRepository, SyncRunRepository, UserRepository } from './repositories';
import { type DB } from './schema';

describe(DbModule.name, () => {
  it('should provide the database and every repository by class', async () => {
    // The pool connects lazily; nothing here queries, so no server is needed.
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new Pool({ max: 1 }) }) });
    const database: Database = { db, kind: 'server', ping: () => Promise.resolve(), close: () => db.destroy() };
    const moduleRef = await Test.createTestingModule({ imports: [DbModule.forDatabase(database, null)] }).compile();
    expect(moduleRef.get(DATABASE)).toBe(database);
    expect(moduleRef.get(UserRepository)).toBeInstanceOf(UserRepository);
    expect(moduleRef.get(ConnectionRepository)).toBeInstanceOf(ConnectionRepository);
    expect(moduleRef.get(SyncRunRepository)).toBeInstanceOf(SyncRunRepository);
    await moduleRef.close();
    await db.destroy();
  });
});
