import { afterAll, describe, expect, inject, it } from 'vitest';
import { initOrm } from '../../src/db.ts';
import { createDatabase, type RunningApp, startApp } from '../support/harness.ts';
import { runServerCommand } from '../support/process.ts';

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanup) await c();
});

describe('migrations', () => {
  it('bring an empty database exactly to the entities (no schema diff left), and run once', async () => {
    const db = await createDatabase(false);
    cleanup.push(db.drop);
    const orm = await initOrm({ DATABASE_URL: db.url, DATABASE_POOL_MAX: 1, DEPENDENCY_TIMEOUT_MS: 2_000 });
    try {
      expect((await orm.migrator.getPending()).length).toBeGreaterThan(0);
      const applied = await orm.migrator.up();
      expect(applied.map((m) => m.name)).toContain('Migration20261123000000_notes');
      expect(await orm.migrator.up()).toEqual([]);
      expect(await orm.schema.getUpdateSchemaSQL({ wrap: false })).toBe('');
    } finally {
      await orm.close(true);
    }
  });

  it('never run at start-up: an unmigrated database stays empty and the API reports the failure', async () => {
    const db = await createDatabase(false);
    cleanup.push(db.drop);
    const app: RunningApp = await startApp({ DATABASE_URL: db.url });
    cleanup.unshift(app.close);
    const res = await fetch(`${app.url}/notes`);
    expect(res.status).toBe(500);
    expect((await res.json()).error).toBe('internal');
    const [rows] = (await app.services.orm.em.getConnection().execute('show tables')) as unknown as [
      unknown[],
    ];
    expect(rows ?? []).toHaveLength(0);
  });

  it('`migrate --dry-run` prints each pending migration with its SQL, and runs none of it', async () => {
    const db = await createDatabase(false);
    cleanup.push(db.drop);
    const r = await runServerCommand(['migrate', '--dry-run'], {
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
    });
    expect(r.code, r.output).toBe(0);
    const plan = JSON.parse(r.output.trim().split('\n').pop() ?? '{}');
    expect(plan.pending).toEqual(['Migration20261123000000_notes']);
    expect(plan.statements.Migration20261123000000_notes).toEqual([
      expect.stringMatching(/^create table `notes` /),
    ]);
    const orm = await initOrm({ DATABASE_URL: db.url, DATABASE_POOL_MAX: 1, DEPENDENCY_TIMEOUT_MS: 2_000 });
    try {
      // the migrator's own bookkeeping table may exist; the migration's table must not
      expect(await orm.em.getConnection().execute("show tables like 'notes'")).toEqual([]);
    } finally {
      await orm.close(true);
    }
  });
});
