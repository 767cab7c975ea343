// Each VM deploy command through the recording runner, with no SSH: the commands that reach the
// VM, the Result's exit code, --json object and text.
import { describe, expect, it } from 'vitest';
import { actor, deployArgs, rel, twoReleases } from '../../../test/support/deploy-fixtures.ts';
import { CliError, createContext } from '../cli/context.ts';
import { RecordingRunner, toShell } from '../runner.ts';
import type { Target } from '../target.ts';
import {
  checkUsage,
  cleanup,
  type DeployIo,
  parseSchemas,
  refuseIfLocked,
  releases,
  runVmPlan,
  status,
  underLease,
} from './cli.ts';
import { releaseLock } from './commands.ts';
import { deployPlan, leaseToken, lockPlan } from './plan.ts';
import type { VmView } from './state.ts';

const target = { name: 'twin', domain: 'localhost' } as Target;

function io(vm: RecordingRunner, dryRun = false, lines: string[] = []): DeployIo {
  return {
    ctx: createContext(false, { write: (l) => lines.push(l) }),
    target,
    runners: { local: new RecordingRunner(), vm },
    where: { local: 'local', vm: 'deploy@127.0.0.1:2222' },
    actor,
    root: '.',
    dryRun,
    lockWaitS: 0,
  };
}

const withLock = (view: VmView, time: string): VmView => ({
  ...view,
  lock: { who: 'ci@example.com', host: 'runner', pid: 7, command: 'deploy', time },
});

describe('refuseIfLocked (the lock command)', () => {
  const now = new Date('2026-11-23T04:10:00Z');
  it('refuses under a lock, naming its holder and age', () => {
    const view = withLock(twoReleases(), '2026-11-23T04:00:00Z');
    expect(() => refuseIfLocked(view, now)).toThrow('locked by ci@example.com@runner (deploy) for 10 min');
  });
  it('calls a lock older than 30 min stale and names the way out', () => {
    const view = withLock(twoReleases(), '2026-11-23T03:00:00Z');
    expect(() => refuseIfLocked(view, now)).toThrow(/stale: .*`unlock --force`/);
  });
});

describe('underLease', () => {
  /** A VM whose state.json says v2 on green while the proxy serves v1 from blue (a deploy whose
   * session was cut after its switch, before this fix recorded the state there). */
  const drifted = () =>
    new RecordingRunner((argv) => {
      const line = argv.join(' ');
      if (line.includes('cat "$1" 2>/dev/null') && line.includes('state.json'))
        return {
          stdout: JSON.stringify({ colour: 'green', release: 'v2', image: 'e2m/backend:v2', since: 'x' }),
        };
      if (argv[0] === 'docker' && argv[1] === 'ps')
        return {
          stdout: [
            {
              Names: 'e2m-app-blue',
              Labels: 'e2m.colour=blue,e2m.release=v1',
              State: 'running',
              Image: 'e2m/backend:v1',
            },
            {
              Names: 'e2m-app-green',
              Labels: 'e2m.colour=green,e2m.release=v2',
              State: 'running',
              Image: 'e2m/backend:v2',
            },
          ]
            .map((c) => JSON.stringify(c))
            .join('\n'),
        };
      if (line.includes('https://$1/readyz')) return { stdout: '200 v1' };
      return undefined;
    });

  it('takes the lock before it reads the VM, and plans from what it read under it', async () => {
    const vm = drifted();
    let seen: VmView | undefined;
    await underLease(io(vm), 'deploy v3', async (_io, view) => {
      seen = view;
      return { code: 0 };
    });
    const lines = vm.commands;
    const take = lines.findIndex((l) => l.includes('flock'));
    const read = lines.findIndex((l) => l.includes('state.json') && l.includes('cat'));
    expect(take).toBeGreaterThanOrEqual(0);
    expect(take).toBeLessThan(read);
    // the proxy serves v1 from blue: that is the active colour, and state.json is written back
    expect(seen?.active).toMatchObject({ colour: 'blue', release: 'v1' });
    expect(lines.some((l) => l.includes('"event":"state-repaired"'))).toBe(true);
    expect(lines.some((l) => l.includes('"colour":"blue","release":"v1"') && l.includes('state.json'))).toBe(
      true,
    );
    expect(lines.at(-1)).toContain('rm -rf "$1"'); // the lease released last
  });

  it('a deploy planned from the drifted state never targets the colour the proxy serves', async () => {
    const vm = drifted();
    let plan: ReturnType<typeof deployPlan> | undefined;
    await underLease(io(vm), 'deploy v3', async (_io, view) => {
      plan = deployPlan(view, deployArgs);
      return { code: 0 };
    });
    expect(plan?.summary).toMatch(/^deploy v3 to green/);
  });

  it("takes the lock and reads the VM in one round trip; the plan's own unlock is the only release", async () => {
    const vm = new RecordingRunner((argv) =>
      argv.join(' ').includes('https://$1/readyz') ? { stdout: '200 v2' } : undefined,
    );
    const trips: string[][] = [];
    const seq = vm.runSequence.bind(vm);
    vm.runSequence = (parts, o) => {
      trips.push(Object.keys(parts));
      return seq(parts, o);
    };
    const r = await underLease(io(vm), 'cleanup --keep 5', (io, view) => cleanup(io, view, 5));
    expect(r.code).toBe(0);
    expect(trips[0]).toEqual([
      'take_lock',
      'state',
      'warm',
      'releases',
      'containers',
      'images',
      'lock',
      'probe',
    ]);
    expect(vm.commands[0]).toContain('flock');
    const release = toShell(releaseLock(leaseToken(actor)));
    expect(vm.commands.filter((l) => l === release)).toEqual([release]);
  });

  it('a dry run takes no lock and writes nothing', async () => {
    const vm = drifted();
    await underLease(io(vm, true), 'deploy v3', async () => ({ code: 0 }));
    expect(vm.commands.some((l) => l.includes('flock') || l.includes('mv -f'))).toBe(false);
  });
});

describe('checkUsage', () => {
  const none = () => false;
  it('refuses a --warm-for that is not a whole number of seconds up to a day, naming the flag', () => {
    for (const bad of ['-5', 'ten', '1.5', '', '86401'])
      expect(() => checkUsage({ 'warm-for': bad }, none)).toThrow(
        `--warm-for must be an integer 0..86400 (got "${bad}")`,
      );
    expect(() => checkUsage({ 'warm-for': '0' }, none)).not.toThrow();
    expect(() => checkUsage({ 'warm-for': '600' }, none)).not.toThrow();
  });
  it('refuses --ref with --image, and --app with --image, as usage errors', () => {
    for (const v of [
      { ref: 'v1', image: 'x' },
      { app: 'a', image: 'x' },
    ]) {
      const e = (() => {
        try {
          checkUsage(v, none);
        } catch (err) {
          return err as CliError;
        }
      })();
      expect(e).toBeInstanceOf(CliError);
      expect(e?.code).toBe(2);
    }
  });
  it('names an --app directory that is missing', () => {
    expect(() => checkUsage({ app: 'nowhere' }, none)).toThrow(/nowhere/);
  });
});

describe('status and releases', () => {
  it('status names the serving release and colour, the containers and a free lock', () => {
    const r = status(target, 'deploy@127.0.0.1:2222', twoReleases());
    expect(r.code).toBe(0);
    expect(r.text?.split('\n')).toEqual([
      'target twin (deploy@127.0.0.1:2222)',
      'serving: v2 on green since 2026-11-22T11:00:00.000Z',
      'warm: none (a rollback starts the parked colour)',
      '  e2m-app-blue     stopped  v1',
      '  e2m-app-green    running  v2',
      'lock: free',
      'images: 2',
    ]);
    expect(r.json).toMatchObject({ active: { release: 'v2' }, warm: null, lock: null });
  });
  it('status names the warm colour, its release and until when, and whether it still runs', () => {
    const view = twoReleases();
    view.containers[0].running = true;
    view.warm = { colour: 'blue', release: 'v1', until: '2026-11-22T11:15:00.000Z' };
    const r = status(target, 'deploy@127.0.0.1:2222', view);
    expect(r.text).toContain(
      'warm: v1 on blue until 2026-11-22T11:15:00.000Z (a rollback to it is just the switch)',
    );
    expect(r.json).toMatchObject({ warm: { colour: 'blue', release: 'v1', running: true } });
    view.containers[0].running = false;
    expect(status(target, 'x', view).text).toContain('but its container is not running');
  });
  it('releases lists newest first and marks the serving attempt', () => {
    const r = releases(twoReleases());
    const rows = r.text?.split('\n').slice(1) ?? [];
    expect(rows[0]).toMatch(/^\* v2 /);
    expect(rows[1]).toMatch(/^ {2}v1 /);
    expect(r.json).toMatchObject({ current: 'v2' });
  });
});

describe('runVmPlan', () => {
  it('with --dry-run prints the plan and runs nothing', async () => {
    const vm = new RecordingRunner();
    const r = await runVmPlan(io(vm, true), lockPlan(actor));
    expect(vm.calls).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/^lock: /);
    expect(r.json).toMatchObject({ ok: true, dryRun: true });
  });
  it('exits 1 and says the proxy never moved when a step fails', async () => {
    const vm = new RecordingRunner(() => ({ code: 1, stderr: 'mkdir: File exists' }));
    const lines: string[] = [];
    const r = await runVmPlan(io(vm, false, lines), lockPlan(actor));
    expect(r.code).toBe(1);
    expect(r.text).toContain('The proxy was never switched');
    expect(lines.some((l) => l.includes('FAILED'))).toBe(true);
  });
});

describe('cleanup', () => {
  it('measures what it freed on the disk, never less than nothing', async () => {
    let avail = 1_000_000;
    const vm = new RecordingRunner((argv) => {
      if (argv[0] === 'df') {
        const out = `Avail\n${avail}`;
        avail += 50_000_000;
        return { stdout: out };
      }
      return undefined;
    });
    const view = twoReleases();
    view.releases.unshift(rel('v0'));
    view.images.push({ ref: 'e2m/backend:v0', tag: 'v0', id: rel('v0').imageId, sizeBytes: 120e6 });
    const r = await cleanup(io(vm), view, 1);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ removed: ['e2m/backend:v0'], freedBytes: 50_000_000 });
    expect(r.text).toContain('freed 50.0 MB (df /var/lib/docker)');
  });
});

describe('parseSchemas', () => {
  it("reads each release's recorded migration plan and skips what it cannot read", () => {
    const text = [
      'v2 {"pending":["M2"],"statements":{"M2":["alter table `notes` drop `body`"]}}',
      'v3 not json',
      '',
    ].join('\n');
    expect(parseSchemas(text)).toEqual({
      v2: { pending: ['M2'], statements: { M2: ['alter table `notes` drop `body`'] } },
    });
  });
});
