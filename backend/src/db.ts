import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, MikroORM } from '@mikro-orm/mysql';
import type { Config } from './config.ts';
import { migrations } from './migrations/index.ts';
import { Note } from './modules/notes/note.entity.ts';

export const entities = [Note];

/**
 * The ORM for one process. Migrations are listed explicitly (not discovered from disk) so they
 * survive `bun build --compile`; they run only from the `migrate` command, never at start-up.
 */
export function ormConfig(
  config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_MAX' | 'DEPENDENCY_TIMEOUT_MS'>,
) {
  return defineConfig({
    clientUrl: config.DATABASE_URL,
    entities,
    extensions: [Migrator],
    pool: { min: 0, max: config.DATABASE_POOL_MAX },
    driverOptions: { connectTimeout: Math.max(config.DEPENDENCY_TIMEOUT_MS, 1_000) },
    migrations: { migrationsList: migrations, snapshot: false, transactional: true, allOrNothing: true },
    debug: false,
    allowGlobalContext: false,
  });
}

export function initOrm(config: Parameters<typeof ormConfig>[0]): Promise<MikroORM> {
  return MikroORM.init(ormConfig(config));
}
