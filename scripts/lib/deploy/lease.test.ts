// The lease's shell, run for real on this machine (sh, flock, stat, date) against a scratch lock
// directory: two takers, a dead holder's expired lease, a manual lock, --lock-wait, the heartbeat.
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { actor } from '../../../test/support/deploy-fixtures.ts';
import { LocalRunner } from '../runner.ts';
import * as cmd from './commands.ts';
import { type LeaseOptions, takeLease } from './lease.ts';
import { holderJson } from './plan.ts';

const vm = new LocalRunner();
let scratch: string;
let dir: string;
let auditFile: string;
const said: string[] = [];
const opts = (o: Partial<LeaseOptions> = {}): LeaseOptions => ({
  waitS: 0,
  say: (l) => said.push(l),
  dir,
  auditFile,
  pollMs: 50,
  ...o,
});
const other = { ...actor, who: 'ci@example.com', host: 'runner', pid: 99 };
const backdate = (file: string, s: number) => {
  const t = Date.now() / 1000 - s;
  utimesSync(file, t, t);
};

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'e2m-lease-'));
  dir = join(scratch, 'lock');
  auditFile = join(scratch, 'audit.jsonl');
  said.length = 0;
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

describe('takeLease', () => {
  it('takes a free lock with a lease and gives it back', async () => {
    const lease = await takeLease(vm, actor, 'deploy v3', opts());
    expect(JSON.parse(readFileSync(join(dir, 'holder.json'), 'utf8'))).toMatchObject({
      who: actor.who,
      command: 'deploy v3',
    });
    expect(existsSync(join(dir, 'lease'))).toBe(true);
    await lease.end();
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a second taker while the holder is alive, naming it and its lease', async () => {
    const first = await takeLease(vm, other, 'deploy v2', opts());
    await expect(takeLease(vm, actor, 'deploy v3', opts())).rejects.toThrow(
      /^locked by ci@example.com@runner \(deploy v2\) since .*; its lease was renewed \d+ s ago and lapses after 90 s .*--lock-wait SECONDS/,
    );
    await first.end();
  });

  it("breaks a dead holder's expired lease and audits whose it was", async () => {
    await vm.run(cmd.takeLock(holderJson(other, 'deploy v2'), 90, dir));
    backdate(join(dir, 'lease'), 91);
    const lease = await takeLease(vm, actor, 'deploy v3', opts());
    expect(lease.broke).toContain('"who":"ci@example.com"');
    const line = JSON.parse(readFileSync(auditFile, 'utf8').trim());
    expect(line).toMatchObject({ event: 'lock-expired', holder: { who: 'ci@example.com' }, by: 'deploy v3' });
    expect(JSON.parse(readFileSync(join(dir, 'holder.json'), 'utf8')).who).toBe(actor.who);
    await lease.end();
  });

  it('never breaks a manual lock, however old', async () => {
    await vm.run(cmd.takeLock(holderJson(other, 'manual lock'), 0, dir));
    backdate(join(dir, 'holder.json'), 86_400);
    await expect(takeLease(vm, actor, 'deploy v3', opts())).rejects.toThrow(
      /a manual lock: it holds until `unlock`/,
    );
  });

  it('with --lock-wait, queues behind a live holder and goes once it is done', async () => {
    const first = await takeLease(vm, other, 'deploy v2', opts());
    setTimeout(() => void first.end(), 300);
    const lease = await takeLease(vm, actor, 'deploy v3', opts({ waitS: 10 }));
    expect(said[0]).toMatch(/^waiting up to 10 s for the deploy lock, held by ci@example.com@runner/);
    await lease.end();
  });

  it('with --lock-wait, gives up after the wait, naming the holder', async () => {
    const first = await takeLease(vm, other, 'deploy v2', opts());
    await expect(takeLease(vm, actor, 'deploy v3', opts({ waitS: 1 }))).rejects.toThrow(/; waited 1 s$/);
    await first.end();
  });

  it('renews its lease while it runs, so a live deploy is never broken', async () => {
    const lease = await takeLease(vm, actor, 'deploy v3', opts({ heartbeatMs: 50 }));
    backdate(join(dir, 'lease'), 80);
    await new Promise((r) => setTimeout(r, 400));
    await expect(takeLease(vm, other, 'deploy v4', opts())).rejects.toThrow(/renewed [0-2] s ago/);
    expect(lease.lost).toBe(false);
    await lease.end();
  });

  it("notices a lost lease and leaves the new holder's lock alone", async () => {
    const lease = await takeLease(vm, actor, 'deploy v3', opts({ heartbeatMs: 50 }));
    writeFileSync(join(dir, 'holder.json'), `${holderJson(other, 'deploy v4')}\n`);
    await new Promise((r) => setTimeout(r, 300));
    expect(lease.lost).toBe(true);
    await lease.end();
    expect(JSON.parse(readFileSync(join(dir, 'holder.json'), 'utf8')).who).toBe(other.who);
  });
});
