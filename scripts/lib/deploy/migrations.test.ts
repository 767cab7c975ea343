import { describe, expect, it } from 'vitest';
import { judgeMigrations } from './contract.ts';
import { destructiveStatements, parseMigrationPlan } from './migrations.ts';

const plan = (...sql: string[]) => ({ pending: ['M1'], statements: { M1: sql } });
const ok = (stdout: string) => ({ code: 0, stdout, stderr: '' });

describe('destructiveStatements', () => {
  it.each([
    'create table `notes` (`id` bigint not null primary key)',
    'alter table `notes` add `tags` varchar(100) null',
    'alter table `notes` add index `notes_title_index`(`title`)',
    'alter table `notes` drop index `notes_title_index`',
    'alter table `notes` drop foreign key `notes_user_fk`',
    'insert into `settings` (`k`, `v`) values (1, 2)',
  ])('lets an additive change through: %s', (sql) => {
    expect(destructiveStatements(plan(sql))).toEqual([]);
  });

  it.each([
    ['drop table `notes`', 'drop a table'],
    ['alter table `notes` drop `body`', 'drop a column'],
    ['alter table `notes` drop column `body`', 'drop a column'],
    ['rename table `notes` to `posts`', 'rename a table or column'],
    ['alter table `notes` rename column `title` to `name`', 'rename a table or column'],
    ['alter table `notes` modify `title` varchar(50) not null', "change a column's type (it may narrow)"],
    ['alter table `notes` change `title` `name` varchar(200)', "change a column's type (it may narrow)"],
    ['truncate table `notes`', 'empty a table'],
    ['delete from `notes` where 1', 'delete rows'],
  ])('calls %s destructive (%s)', (sql, why) => {
    expect(destructiveStatements(plan(sql))).toEqual([{ migration: 'M1', statement: sql, why }]);
  });
});

describe('parseMigrationPlan', () => {
  it('reads the last line, after whatever the app logged', () => {
    expect(parseMigrationPlan('{"level":"info"}\n{"pending":["M1"],"statements":{"M1":["x"]}}\n')).toEqual({
      pending: ['M1'],
      statements: { M1: ['x'] },
    });
  });
  it('says nothing it cannot read', () => {
    expect(parseMigrationPlan('unknown option --dry-run')).toBeUndefined();
  });
});

describe('judgeMigrations', () => {
  const destructive = JSON.stringify(plan('alter table `notes` drop `body`'));
  it('refuses a destructive migration, naming it and the way to allow it', () => {
    expect(judgeMigrations(ok(destructive), false)?.error).toMatch(
      /^refusing a destructive migration .*: M1 would drop a column: alter table `notes` drop `body`\. Deploy with --allow-destructive/,
    );
  });
  it('with --allow-destructive: a dump first, and a warning that says what runs', () => {
    expect(judgeMigrations(ok(destructive), true)).toMatchObject({
      dump: true,
      warning: expect.stringMatching(/dump first/),
    });
  });
  it('an additive plan passes silently', () => {
    expect(judgeMigrations(ok(JSON.stringify(plan('create table t (id int)'))), false)).toBeUndefined();
  });
  it('an image that cannot list its migrations is a warning, not a refusal (the optional part of the contract)', () => {
    const v = judgeMigrations({ code: 2, stdout: '', stderr: 'unknown option --dry-run' }, false);
    expect(v?.error).toBeUndefined();
    expect(v?.warning).toMatch(/did not list its pending migrations .*exit 2: unknown option --dry-run/);
  });
});
