// Each incident command through the recording runner, with no SSH: which commands reach the VM,
// the Result's exit code, --json object and text. The site is a stand-in that answers 503 while
// the recorded kill switch is on, so the drill's timing and judgement run for real.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError, createContext } from '../cli/context.ts';
import { RecordingRunner } from '../runner.ts';
import type { Target } from '../target.ts';
import { diag, drill, type IncidentIo, killSwitch, logs, restart, status, unreachable } from './cli.ts';
import { sshFinding } from './verdicts.ts';

const STATE = '{"colour":"blue","release":"v7","image":"e2m/backend:v7","since":"2026-11-22T10:00:00Z"}';

const target: Target = {
  name: 'twin',
  inventoryFile: 'inventory/twin.yml',
  hostName: 'twin',
  host: '127.0.0.1',
  port: 2222,
  user: 'ops',
  deployUser: 'deploy',
  keyFile: '/keys/twin',
  env: 'twin',
  domain: 'e2m.test',
  tlsMode: 'internal',
  projectId: 'e2m-twin',
  bucket: 'e2m-twin-backups',
  httpUrl: 'http://127.0.0.1:8080',
  httpsUrl: 'https://127.0.0.1:8443',
};

/** A VM whose kill switch and units behave; `fail` makes matching commands exit 1. */
class FakeVm extends RecordingRunner {
  private readonly sw: { on: boolean };
  readonly streamed: string[];
  constructor(fail: (line: string) => boolean = () => false) {
    const sw = { on: false };
    super((argv) => {
      const line = argv.join(' ');
      if (fail(line)) return { code: 1, stderr: 'boom' };
      if (line.includes('state.json')) return { stdout: STATE };
      if (line.includes('kill-switch on')) sw.on = true;
      if (line.includes('kill-switch off')) sw.on = false;
      if (line.includes('kill-switch status'))
        return {
          stdout: sw.on
            ? 'log line\n{"on":true,"since":"2026-12-02T10:00:00Z","reason":"r","source":"redis"}'
            : '{"on":false}',
        };
      if (line.includes('/proc/loadavg')) return { stdout: '90000 1\n0.1 0.1 0.1 1/1 1\n2\n' };
      if (line.includes('/proc/meminfo'))
        return { stdout: 'MemTotal: 1000000 kB\nMemAvailable: 600000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n' };
      if (line.includes('systemctl is-active')) return { stdout: 'active' };
      if (line.includes('curl')) return { stdout: '200' };
      if (line.includes('cat /etc/e2-micro/app.env')) return { stdout: 'DB_PASSWORD=Pa55-word-xyz\n' };
      return undefined;
    });
    this.sw = sw;
    this.streamed = [];
  }
  get switchOn() {
    return this.sw.on;
  }
  set switchOn(on: boolean) {
    this.sw.on = on;
  }
  async stream(argv: readonly string[], onStdout: (b: Buffer) => void): Promise<number> {
    this.streamed.push(argv.join(' '));
    onStdout(Buffer.from('a log line\n'));
    return argv.join(' ').includes('nomatch') ? 1 : 0;
  }
}

function io(vm: FakeVm, opts: { json?: boolean; stuckSite?: boolean } = {}) {
  const said: string[] = [];
  const out: string[] = [];
  const uploads: string[][] = [];
  const ctx = createContext(opts.json ?? false, { write: (l) => said.push(l) });
  const x: IncidentIo = {
    ctx,
    target,
    vm,
    local: new RecordingRunner(),
    actor: { who: 'ops@example.org', host: 'laptop', pid: 42, now: '2026-12-02T10:00:00.000Z' },
    site: {
      status: async (_method, path) => (path === '/healthz' ? 200 : vm.switchOn ? 503 : 404),
      timeUntil: async (_path, want) =>
        opts.stuckSite ? undefined : want(vm.switchOn ? 503 : 200) ? 7 : undefined,
    },
    reachable: sshFinding({ ok: true, where: 'ops@127.0.0.1:2222', ms: 12 }),
    // A still clock: step times are 0, so the site's own 7 ms is every measured time.
    exec: { sleep: async () => {}, now: () => 0 },
    stdout: (b) => out.push(b.toString()),
    stderr: (b) => out.push(b.toString()),
    onInterrupt: () => {},
    upload: async (file, object) => {
      uploads.push([file, object]);
    },
  };
  return { io: x, said, out, uploads };
}

describe('incident status', () => {
  it('reads the state first, puts the SSH finding on top, exits 1 when a check fails', async () => {
    const vm = new FakeVm();
    const { io: x } = io(vm);
    const r = await status(x);
    expect(vm.commands[0]).toContain('state.json');
    const json = r.json as { target: string; findings: { id: string; level: string }[]; level: string };
    expect(json.target).toBe('twin');
    expect(json.findings[0]).toMatchObject({ id: 'ssh', level: 'ok' });
    // Empty answers from the recording runner leave checks failing: the exit code says so.
    expect(json.level).toBe('fail');
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/^status of twin \(recording\) in \d+\.\ds\n/);
    expect(r.text).toMatch(/ok +VM reachable +SSH ops@127\.0\.0\.1:2222 in 12 ms/);
    expect(r.text).toMatch(/overall: fail$/);
  });

  it('unreachable: one failing finding and the next step for the target', () => {
    const f = sshFinding({ ok: false, where: 'ops@127.0.0.1:2222', ms: 10_001, error: 'timed out' });
    const r = unreachable(target, f);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ ok: false, level: 'fail', findings: [f] });
    expect(f.summary).toBe('no SSH to ops@127.0.0.1:2222: timed out');
    expect(r.text).toContain('The twin: npm run twin -- status');
    expect(unreachable({ ...target, name: 'prod' }, f).text).toContain(
      'Next: npm run incident -- console --target prod (serial console), then reset --force',
    );
  });
});

describe('incident logs', () => {
  it('streams the serving colour container with the grep; exit 1 and a note when nothing matched', async () => {
    const vm = new FakeVm();
    const { io: x, out, said } = io(vm);
    expect(await logs(x, 'app', { since: '5m', grep: 'readyz' })).toEqual({ code: 0 });
    expect(vm.streamed[0]).toContain('e2m-app-blue');
    expect(vm.streamed[0]).toContain('readyz');
    expect(out).toEqual(['a log line\n']);
    expect(await logs(x, 'db', { grep: 'nomatch' })).toEqual({ code: 1 });
    expect(said.at(-1)).toContain('(no line matched)');
  });

  it('an unknown source or a bad --since is a usage error before anything streams', async () => {
    const vm = new FakeVm();
    const { io: x } = io(vm);
    await expect(logs(x, 'kernel', {})).rejects.toMatchObject({
      code: 2,
      message: /unknown log source "kernel"/,
    });
    await expect(logs(x, 'app', { since: 'yesterday' })).rejects.toBeInstanceOf(CliError);
    await expect(logs(x, 'app', { since: 'yesterday' })).rejects.toMatchObject({ code: 2 });
    expect(vm.streamed).toEqual([]);
  });
});

describe('incident diag', () => {
  it('writes a redacted bundle with the status in it, and uploads it when asked', async () => {
    const vm = new FakeVm();
    const { io: x, uploads } = io(vm);
    const file = join(mkdtempSync(join(tmpdir(), 'e2m-diag-cli-')), 'b.tar.gz');
    const r = await diag(x, { out: file, upload: true });
    expect(r.code).toBe(0);
    expect(existsSync(file)).toBe(true);
    expect(r.json).toMatchObject({ ok: true, file, redacted: 1, status: 'fail' });
    expect(uploads).toEqual([[file, 'diag/b.tar.gz']]);
    expect(r.text).toMatch(
      /^bundle .*b\.tar\.gz \(\d+ KB, \d+ files, 1 secret values redacted\), uploaded to gs:\/\/e2m-twin-backups\/diag\/b\.tar\.gz$/,
    );
  });
});

describe('incident restart', () => {
  it('db: lock, restart, wait, audit, unlock; healthy is exit 0', async () => {
    const vm = new FakeVm();
    const { io: x } = io(vm);
    const r = await restart(x, 'db', false);
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/^db restarted and healthy in \d+\.\ds$/);
    expect(vm.commands.some((c) => c === 'sudo -n systemctl restart mariadb')).toBe(true);
    expect(r.json).toMatchObject({ action: 'restart', service: 'db', ok: true });
  });

  it('a failed restart names the step and the next command; --dry-run runs nothing', async () => {
    const vm = new FakeVm((line) => line.includes('systemctl restart'));
    const { io: x } = io(vm);
    const r = await restart(x, 'proxy', false);
    expect(r.code).toBe(1);
    expect(r.text).toContain('restart proxy failed at "restart"');
    expect(r.text).toContain('next: incident status, incident logs proxy');
    const dry = new FakeVm();
    const d = await restart(io(dry).io, 'app', true);
    expect(d.code).toBe(0);
    expect(d.json).toMatchObject({ ok: true, dryRun: true, plan: { action: 'restart' } });
    expect(dry.commands.filter((c) => !c.includes('state.json'))).toEqual([]);
    await expect(restart(x, 'kernel', false)).rejects.toMatchObject({ code: 2 });
  });
});

describe('incident kill-switch', () => {
  it('on: switches through the serving container, measures the site, reads the state back', async () => {
    const vm = new FakeVm();
    const { io: x } = io(vm, { json: true });
    const r = await killSwitch(x, 'on', { reason: 'incident 7' });
    expect(r.code).toBe(0);
    expect(vm.commands).toContain(
      "sudo -n docker exec e2m-app-blue /app/server kill-switch on --reason 'incident 7'",
    );
    expect(r.json).toMatchObject({ ok: true, action: 'on', state: { on: true, reason: 'r' } });
    expect(r.json).toMatchObject({ siteMs: 7, commandMs: 7 });
  });

  it('status reads it; a site that never changes is exit 1; an unknown action is usage', async () => {
    const vm = new FakeVm();
    const s = await killSwitch(io(vm).io, 'status', {});
    expect(s).toMatchObject({ code: 0, json: { ok: true, on: false } });
    const stuck = await killSwitch(io(vm, { stuckSite: true }).io, 'off', {});
    expect(stuck.code).toBe(1);
    expect(stuck.text).toContain('kill switch is off but the site did not recover within 5 s');
    await expect(killSwitch(io(vm).io, 'maybe', {})).rejects.toMatchObject({ code: 2 });
  });
});

describe('incident drill', () => {
  it('on, every route checked, off; passes with the times', async () => {
    const vm = new FakeVm();
    const r = await drill(io(vm).io);
    expect(r.json).toMatchObject({ ok: true, onMs: 7, offMs: 7, routes: 6, problems: [] });
    expect(r.code).toBe(0);
    expect(vm.switchOn).toBe(false);
    expect(r.text).toMatch(/drill passed in \d+\.\ds$/);
  });

  it('a failed switch-on still switches off, and the verdict says why', async () => {
    const vm = new FakeVm((line) => line.includes('kill-switch on'));
    const r = await drill(io(vm).io);
    expect(r.code).toBe(1);
    expect(vm.commands.some((c) => c.includes('kill-switch off'))).toBe(true);
    expect((r.json as { problems: string[] }).problems[0]).toMatch(
      /^on: GET \/notes answered 404, want 503$/,
    );
    expect(r.text).toMatch(/drill FAILED$/);
  });

  it('refuses to drill over a switch that is already on', async () => {
    const vm = new FakeVm();
    vm.switchOn = true;
    await expect(drill(io(vm).io)).rejects.toThrow(/already on \(r\): not drilling over a real incident/);
  });
});
