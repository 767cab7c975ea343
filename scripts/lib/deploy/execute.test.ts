import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployArgs, empty, twoReleases } from '../../../test/support/deploy-fixtures.ts';
import { RecordingRunner } from '../runner.ts';
import * as cmd from './commands.ts';
import { execute, renderPlan } from './execute.ts';
import { deployPlan, leaseToken, type Plan } from './plan.ts';

// Orchestration through recording runners: each failure path ends with the old colour serving.
const args = deployArgs;

/** What the contract probe prints for a colour in a given state (commands.ts contractProbe). */
const probeOut = (p: { state?: string; readyz?: string; release?: string } = {}) =>
  [
    '--- state',
    p.state ?? 'running 0 0',
    '--- healthz',
    '200',
    '--- readyz',
    `HTTP/1.1 ${p.readyz ?? '200'} OK`,
    `x-release: ${p.release ?? 'v3'}`,
    '',
    '{}',
    '--- log',
    '',
  ].join('\n');
const isContractProbe = (l: string) => l.includes('--- state');
const isDrain = (l: string) => l.includes('docker stop --time');
const isMigrationPlan = (l: string) => l.includes('migrate --dry-run');
const isMigrate = (l: string) => l.includes(' migrate') && !isMigrationPlan(l);
/** The new colour's removal (guarded: never the colour the proxy serves) and this deploy's unlock. */
const RM_BLUE = cmd.removeContainer('blue', args.domain, 'v3').join(' ');
const UNLOCK = cmd.releaseLock(leaseToken(args.actor)).join(' ');

type Fault = {
  when: (line: string) => boolean;
  result?: { code: number; stdout?: string; stderr?: string };
  throws?: Error;
};

/** The proxy of the twoReleases VM: it answers from whatever the last switch named. */
const SERVES: Record<string, string> = { blue: '200 v3', green: '200 v2', maintenance: '503' };
const switchTarget = (l: string) => /e2m-proxy-switch (\w+)$/.exec(l)?.[1];

function harness(faults: Fault[] = []) {
  const lines: string[] = [];
  let dropped = false;
  let serving = 'green';
  const answer = (line: string) => {
    lines.push(line);
    if (dropped) throw new Error('ssh: connection lost');
    const to = switchTarget(line);
    for (const f of faults) {
      if (f.when(line)) {
        if (f.throws) {
          dropped = true;
          throw f.throws;
        }
        return f.result;
      }
    }
    // a healthy VM: colours become ready, the proxy answers from the target of the last switch
    if (to) serving = to;
    if (isContractProbe(line)) return { code: 0, stdout: probeOut() };
    if (isDrain(line)) return { code: 0, stdout: '0\n' };
    if (isMigrationPlan(line)) return { code: 0, stdout: '{"pending":[],"statements":{}}\n' };
    if (line.includes('curl -sf')) return { code: 0 };
    if (line.includes('/readyz')) return { code: 0, stdout: SERVES[serving] };
    return undefined;
  };
  const vm = new RecordingRunner();
  const local = new RecordingRunner();
  // RecordingRunner answers through its callback; wrap exec to see the line and inject faults.
  for (const r of [vm, local]) {
    const exec = r.exec.bind(r);
    r.exec = async (argv, input) => {
      const res = await exec(argv, input);
      // The save's two local commands (ship.ts) leave what Docker and zstd would: an archive of
      // one layer, and the compressed file.
      if (r === local && argv[2]?.startsWith('docker save')) {
        writeFileSync(join(argv[5], 'manifest.json'), '[{"Config":"c.json","Layers":["l/layer.tar"]}]');
        writeFileSync(join(argv[5], 'c.json'), `{"rootfs":{"diff_ids":["sha256:${'a'.repeat(64)}"]}}`);
        mkdirSync(join(argv[5], 'l'));
        writeFileSync(join(argv[5], 'l', 'layer.tar'), 'layer');
      }
      if (r === local && argv[2]?.startsWith('tar -c')) writeFileSync(argv[5], 'zst');
      if (r === vm && argv[2] === cmd.untilOutput([], '', 0, 0)[2]) return untilOutput(argv.slice(4));
      const f = answer(`${r === vm ? 'vm' : 'local'}: ${argv.join(' ')}`);
      return f ? { ...res, stdout: '', stderr: '', ...f } : res;
    };
  }
  let clock = 0;
  const sleep = async (ms: number) => {
    clock += ms;
  };
  /** The VM's side of commands.ts untilOutput (a real shell runs it in commands.test.ts): the
   * command again every interval, on this clock, until it prints what is wanted. */
  const untilOutput = ([t, iv, want, ...inner]: string[]) => {
    const deadline = clock + Number(t) * 1000;
    for (;;) {
      const got = { code: 0, stdout: '', ...answer(`vm: ${inner.join(' ')}`) };
      const out = got.stdout.trim();
      if (got.code === 0 && out === want) return { code: 0, stdout: '', stderr: '' };
      if (clock >= deadline)
        return { code: 1, stdout: '', stderr: `not done after ${t} s: got "${out}", want "${want}"\n` };
      clock += Number(iv) * 1000;
    }
  };
  const opts = { sleep, now: () => clock };
  return { runners: { vm, local }, lines, opts };
}

const vmLines = (lines: string[]) => lines.filter((l) => l.startsWith('vm: ')).map((l) => l.slice(4));
const switchedTo = (vm: string[]) => vm.map(switchTarget).filter((t) => t !== undefined);

async function run(plan: Plan, faults: Fault[]) {
  const h = harness(faults);
  const outcome = await execute(plan, h.runners, h.opts);
  return { outcome, lines: h.lines, vm: vmLines(h.lines) };
}

describe('deploy orchestration', () => {
  it('happy path: every step once, in order, the lock released last; the old colour stays warm', async () => {
    const { outcome, vm } = await run(deployPlan(twoReleases(), args), []);
    expect(outcome).toMatchObject({ ok: true, switched: true, rescueErrors: [] });
    expect(vm.at(-1)).toBe(UNLOCK);
    expect(vm.some(isDrain)).toBe(false);
    expect(vm).toContain(cmd.keepWarm('green', 'v2', 900).join(' '));
    expect(outcome.warnings).toEqual([]);
    expect(outcome.shipped).toEqual({ bytes: 3, layers: 1, omitted: 0 });
  });

  it('leaves out of the archive a layer the VM has, and says so', async () => {
    const view = { ...twoReleases(), layers: [`sha256:${'a'.repeat(64)}`] };
    const { outcome } = await run(deployPlan(view, args), []);
    expect(outcome).toMatchObject({ ok: true, shipped: { layers: 1, omitted: 1 } });
  });

  it('with no warm window (--warm-for 0) the old colour is drained and stopped at once', async () => {
    const { outcome, vm } = await run(deployPlan(twoReleases(), { ...args, warmForS: 0 }), []);
    expect(outcome).toMatchObject({ ok: true, switched: true, rescueErrors: [] });
    expect(vm.some((l) => isDrain(l) && l.endsWith('e2m-app-green 30'))).toBe(true);
    expect(vm.some((l) => l.includes('/srv/app/warm'))).toBe(false);
  });

  it.each([
    ['the image does not load', (l: string) => l.includes('docker load'), 'load'],
    ['the migration fails', isMigrate, 'migrate'],
    ['the new colour does not start', (l: string) => l.startsWith('vm: docker run --detach'), 'start'],
  ])(
    '%s: new colour removed, proxy never touched, old colour untouched, failure recorded',
    async (_, when, step) => {
      const { outcome, vm } = await run(deployPlan(twoReleases(), args), [
        { when, result: { code: 1, stderr: 'boom' } },
      ]);
      expect(outcome).toMatchObject({ ok: false, failedStep: step, switched: false });
      expect(outcome.error).toContain('boom');
      expect(switchedTo(vm)).toEqual([]);
      expect(vm.some((l) => l.includes('e2m-app-green') && l.includes('stop'))).toBe(false);
      expect(vm).toContain(RM_BLUE);
      expect(vm.some((l) => l.includes('"outcome":"failed"') && l.includes('releases.jsonl'))).toBe(true);
      expect(vm.at(-1)).toBe(UNLOCK);
    },
  );

  it('health never passes: bounded wait naming the last answer, then the same rescue', async () => {
    const { outcome, vm } = await run(deployPlan(twoReleases(), args), [
      { when: isContractProbe, result: { code: 0, stdout: probeOut({ readyz: '503' }) } },
    ]);
    expect(outcome).toMatchObject({ ok: false, failedStep: 'ready', switched: false });
    expect(outcome.error).toBe('not done after 60 s: /readyz answered 503: {}');
    // polled every 250 ms for 60 s of (fake) time, then given up: bounded
    expect(vm.filter(isContractProbe).length).toBe(241);
    expect(switchedTo(vm)).toEqual([]);
    expect(vm).toContain(RM_BLUE);
  });

  it('a colour that never gets ready is reported before the rescue removes it: state, OOM, /readyz, logs', async () => {
    const report = [
      '--- container',
      'exited 137 true 0',
      '--- readyz',
      '',
      '--- log',
      ...Array.from({ length: 50 }, (_, i) => `{"msg":"line ${i + 1}"}`),
      '',
    ].join('\n');
    const { outcome, vm } = await run(deployPlan(twoReleases(), args), [
      { when: isContractProbe, result: { code: 0, stdout: probeOut({ state: 'exited 137 0' }) } },
      { when: (l) => l.includes('docker logs --tail 50'), result: { code: 0, stdout: report } },
    ]);
    expect(outcome).toMatchObject({ ok: false, failedStep: 'ready' });
    expect(outcome.health).toMatchObject({
      container: 'e2m-app-blue',
      state: 'exited',
      exitCode: 137,
      oomKilled: true,
      readyz: 'no answer',
    });
    expect(outcome.health?.logs).toHaveLength(50);
    expect(outcome.health?.logs.at(-1)).toBe('{"msg":"line 50"}');
    const read = vm.findIndex((l) => l.includes('docker logs --tail 50'));
    expect(read).toBeGreaterThan(-1);
    expect(read).toBeLessThan(vm.lastIndexOf(RM_BLUE));
  });

  it('a missing piece of the contract fails the ready step at once, naming it; nothing switched', async () => {
    const { outcome, vm } = await run(deployPlan(twoReleases(), args), [
      { when: isContractProbe, result: { code: 0, stdout: probeOut({ readyz: '404' }) } },
    ]);
    expect(outcome).toMatchObject({ ok: false, failedStep: 'ready', switched: false });
    expect(outcome.error).toBe(
      '/readyz answered 404: the contract needs GET /readyz (200 once it can serve)',
    );
    expect(vm.filter(isContractProbe).length).toBe(1);
    expect(vm).toContain(RM_BLUE);
  });

  it('an image without a migrate command is named before anything starts', async () => {
    const { outcome, vm } = await run(deployPlan(twoReleases(), args), [
      { when: isMigrate, result: { code: 2, stderr: 'unknown command: migrate' } },
    ]);
    expect(outcome).toMatchObject({ ok: false, failedStep: 'migrate', switched: false });
    expect(outcome.error).toMatch(/^the image has no `migrate` command \(exit 2: unknown command: migrate\)/);
    expect(vm.some((l) => l.startsWith('docker run --detach'))).toBe(false);
  });

  it('an old colour that had to be killed is a warning about the contract; the deploy still succeeds', async () => {
    const { outcome } = await run(deployPlan(twoReleases(), { ...args, warmForS: 0 }), [
      { when: isDrain, result: { code: 0, stdout: '137\n' } },
    ]);
    expect(outcome).toMatchObject({ ok: true, switched: true });
    expect(outcome.warnings).toEqual([
      'drain: e2m-app-green did not stop within 30 s of SIGTERM and was killed: the contract needs the app to drain and exit 0 on SIGTERM',
    ]);
  });

  it('the old colour serves until the proxy has moved: it is stopped only after the proxy answers from the new release', async () => {
    let probes = 0;
    const { outcome, vm } = await run(deployPlan(twoReleases(), { ...args, warmForS: 0 }), [
      {
        // the name moves on the proxy's next lookup, seconds after the switch: 8 probes still see v2
        when: (l) => l.includes('https://$1/readyz') && ++probes <= 8,
        result: { code: 0, stdout: '200 v2' },
      },
    ]);
    expect(outcome).toMatchObject({ ok: true, switched: true, rescueErrors: [] });
    const isProbe = (l: string) => l.includes('https://$1/readyz');
    expect(vm.filter(isProbe).length).toBe(9);
    expect(vm.findIndex(isDrain)).toBeGreaterThan(vm.findLastIndex(isProbe));
    expect(vm.findIndex((l) => switchTarget(l) === 'blue')).toBeLessThan(vm.findIndex(isProbe));
  });

  it('the proxy never moves to the new colour: bounded, then the old colour is routed back, new removed', async () => {
    const { outcome, vm } = await run(deployPlan(twoReleases(), args), [
      { when: (l) => l.includes('https://$1/readyz'), result: { code: 0, stdout: '200 v2' } },
    ]);
    expect(outcome).toMatchObject({ ok: false, failedStep: 'verify', switched: true, rescueErrors: [] });
    expect(outcome.error).toBe('not done after 30 s: got "200 v2", want "200 v3"');
    expect(switchedTo(vm)).toEqual(['blue', 'green']); // to blue (new), then back to green (old)
    const back = vm.findIndex((l) => switchTarget(l) === 'green');
    expect(vm.indexOf('docker start e2m-app-green')).toBeLessThan(back);
    expect(vm.lastIndexOf(RM_BLUE)).toBeGreaterThan(back);
    expect(vm.some(isDrain)).toBe(false);
    expect(vm.at(-1)).toBe(UNLOCK);
  });

  it('the proxy moves back in the rescue before the new colour is removed', async () => {
    const { outcome, vm } = await run(deployPlan(twoReleases(), args), [
      {
        when: (l) => l.includes('/srv/app/state.json') && l.includes('"v3"'),
        result: { code: 1, stderr: 'disk full' },
      },
    ]);
    expect(outcome).toMatchObject({ ok: false, failedStep: 'state', switched: true, rescueErrors: [] });
    const backAnswered = vm.findLastIndex((l) => l.includes('https://$1/readyz'));
    expect(backAnswered).toBeGreaterThan(vm.findIndex((l) => switchTarget(l) === 'green'));
    expect(vm.lastIndexOf(RM_BLUE)).toBeGreaterThan(backAnswered);
  });

  it('a first deploy that fails after the switch puts the maintenance page back and waits for it', async () => {
    const { outcome, vm } = await run(deployPlan(empty(), args), [
      {
        when: (l) => l.includes('/srv/app/state.json') && l.includes('"v3"'),
        result: { code: 1, stderr: 'disk full' },
      },
    ]);
    expect(outcome).toMatchObject({ ok: false, failedStep: 'state', switched: true, rescueErrors: [] });
    expect(switchedTo(vm)).toEqual(['blue', 'maintenance']);
    expect(vm.findLastIndex((l) => l.includes('https://$1/readyz'))).toBeGreaterThan(
      vm.findIndex((l) => switchTarget(l) === 'maintenance'),
    );
  });

  it('never reloads the proxy: the switch is the helper the deploy user may run, and nothing else', async () => {
    const { vm } = await run(deployPlan(twoReleases(), args), []);
    expect(vm.filter((l) => l.startsWith('sudo'))).toEqual(['sudo -n /usr/local/sbin/e2m-proxy-switch blue']);
    expect(vm.some((l) => l.includes('reload'))).toBe(false);
  });

  it('SSH drops mid-way: the run stops, rescue is attempted and its failures reported, nothing switched', async () => {
    const { outcome } = await run(deployPlan(twoReleases(), args), [
      { when: isMigrate, throws: new Error('ssh: connection lost') },
    ]);
    expect(outcome).toMatchObject({ ok: false, failedStep: 'migrate', switched: false });
    expect(outcome.rescueErrors).toEqual([
      'stop-new: ssh: connection lost',
      'record-failure: ssh: connection lost',
      'audit: ssh: connection lost',
      'unlock: ssh: connection lost',
    ]);
  });

  it('SSH drops right after the switch: state.json already names the new colour', async () => {
    const { outcome, vm } = await run(deployPlan(twoReleases(), args), [
      { when: (l) => l.includes('https://$1/readyz'), throws: new Error('ssh: connection lost') },
    ]);
    // The verify shares the switch's round trip: a cut in it is reported at its first step.
    expect(outcome).toMatchObject({ ok: false, failedStep: 'switch', switched: true });
    expect(outcome.error).toBe(
      'ssh: connection lost (the round trip of switch, state, verify, warm, record, audit, unlock: how far it got is not known)',
    );
    const state = vm.find((l) => l.includes('/srv/app/state.json') && l.includes('"colour"'));
    expect(state).toContain('"colour":"blue","release":"v3"');
    expect(vm.indexOf(state ?? '')).toBeGreaterThan(vm.findIndex((l) => switchTarget(l) === 'blue'));
  });
});

describe('round trips', () => {
  /** The VM's commands as they went over SSH: a sequence of steps is one entry. */
  async function trips(plan: Plan, faults: Fault[] = []) {
    const h = harness(faults);
    const sent: string[][] = [];
    const seq = h.runners.vm.runSequence.bind(h.runners.vm);
    h.runners.vm.runSequence = (parts, o) => {
      sent.push(Object.values(parts).map((argv) => (argv as string[]).join(' ')));
      return seq(parts, o);
    };
    const outcome = await execute(plan, h.runners, h.opts);
    return { outcome, sent, vm: vmLines(h.lines) };
  }

  it('plain steps in a row share one: the switch with its record, and everything after the proxy moved', async () => {
    const { outcome, sent } = await trips(deployPlan(twoReleases(), args));
    expect(outcome.ok).toBe(true);
    // [clear, start]; then from the switch to the unlock, the verify's polling included, one.
    expect(sent.map((t) => t.length)).toEqual([2, 7]);
    expect(sent[1][0]).toBe('sudo -n /usr/local/sbin/e2m-proxy-switch blue');
    expect(sent[1].at(-1)).toBe(UNLOCK);
    // Each step still has its own time and line of progress.
    expect(Object.keys(outcome.stepTimes)).toEqual(
      expect.arrayContaining(['switch', 'state', 'warm', 'record', 'audit', 'unlock']),
    );
  });

  it('a step failing after the switch in a shared round trip stops there, and the rescue sends traffic back', async () => {
    const { outcome, sent, vm } = await trips(deployPlan(twoReleases(), args), [
      {
        when: (l) => l.includes('releases.jsonl') && l.includes('"outcome":"deployed"'),
        result: { code: 1, stderr: 'disk full' },
      },
    ]);
    expect(outcome).toMatchObject({ ok: false, failedStep: 'record', switched: true, rescueErrors: [] });
    expect(outcome.error).toContain('disk full');
    // audit and unlock of that round trip never ran; the rescue's steps ran one by one.
    expect(sent.at(-1)?.length).toBe(7);
    expect(switchedTo(vm)).toEqual(['blue', 'green']);
    expect(vm.at(-1)).toBe(UNLOCK);
  });

  it('a round trip cut before its end with the switch in it counts as switched', async () => {
    const { outcome, vm } = await trips(deployPlan(twoReleases(), args), [
      { when: (l) => l.includes('e2m-proxy-switch blue'), throws: new Error('ssh: connection lost') },
    ]);
    expect(outcome).toMatchObject({ ok: false, failedStep: 'switch', switched: true });
    // The cut came before the state step ran: it was never sent.
    expect(vm.some((l) => l.includes('state.json') && l.includes('"colour":"blue"'))).toBe(false);
  });
});

describe('destructive migrations', () => {
  const destructive = '{"pending":["M2"],"statements":{"M2":["alter table `notes` drop `body`"]}}';
  it('without --allow-destructive: refused before migrate, nothing started, the old colour serving', async () => {
    const { outcome, vm } = await run(deployPlan(twoReleases(), args), [
      { when: isMigrationPlan, result: { code: 0, stdout: destructive } },
    ]);
    expect(outcome).toMatchObject({ ok: false, failedStep: 'migrations', switched: false });
    expect(outcome.error).toMatch(/M2 would drop a column/);
    expect(vm.some(isMigrate)).toBe(false);
    expect(vm.some((l) => l.includes('docker run --detach'))).toBe(false);
  });
  it('with --allow-destructive: the backup unit runs before the migration', async () => {
    const { outcome, vm } = await run(deployPlan(twoReleases(), { ...args, allowDestructive: true }), [
      { when: isMigrationPlan, result: { code: 0, stdout: destructive } },
    ]);
    expect(outcome.ok).toBe(true);
    const dump = vm.findIndex((l) => l.includes('systemctl start e2m-backup.service'));
    expect(dump).toBeGreaterThan(-1);
    expect(dump).toBeLessThan(vm.findIndex(isMigrate));
    expect(outcome.warnings).toEqual([expect.stringMatching(/^migrations: destructive migration allowed/)]);
  });
  it('a dump that fails stops the deploy before anything migrates', async () => {
    const { outcome, vm } = await run(deployPlan(twoReleases(), { ...args, allowDestructive: true }), [
      { when: isMigrationPlan, result: { code: 0, stdout: destructive } },
      { when: (l) => l.includes('e2m-backup.service'), result: { code: 1, stderr: 'Job failed' } },
    ]);
    expect(outcome).toMatchObject({ ok: false, failedStep: 'migrations' });
    expect(outcome.error).toMatch(/the dump before the destructive migration failed .*nothing was migrated/);
    expect(vm.some(isMigrate)).toBe(false);
  });
});

describe('dry run', () => {
  it('renders every command with its host, and both rescues', () => {
    const text = renderPlan(deployPlan(twoReleases(), args), { local: 'local', vm: 'deploy@vm:22' });
    expect(text).toContain(
      '[local local] docker save e2m/backend:v3, less the layers the VM has (0 known), | zstd > /tmp/v3.tar.zst',
    );
    expect(text).toContain('[vm    deploy@vm:22] upload /tmp/v3.tar.zst -> /srv/app/images/v3.tar.zst');
    // The verify polls on the VM: the probe every 0.05 s until it answers from v3, 30 s at most.
    expect(text).toContain("30 0.05 '200 v3' sh -c 'curl -sk");
    expect(text).toContain('if a step fails after the switch:');
  });
});

describe('optional steps', () => {
  it('a retention failure is a warning: the deploy still succeeds, nothing is rolled back', async () => {
    const plan = deployPlan(twoReleases(), { ...args, keep: 1 });
    const { outcome, vm } = await run(plan, [
      { when: (l) => l.includes('docker image rm'), result: { code: 1, stderr: 'image is in use' } },
    ]);
    expect(outcome).toMatchObject({ ok: true, switched: true, rescueErrors: [] });
    expect(outcome.warnings).toEqual([expect.stringMatching(/^prune: .*image is in use/s)]);
    expect(switchedTo(vm)).toEqual(['blue']);
    expect(vm.at(-1)).toBe(UNLOCK);
  });
});
