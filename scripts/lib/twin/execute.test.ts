// Orchestration through the recording runner: what `up`/`down` run for each state, and each
// failure path, with no Docker involved.

import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { YAML } from 'zx';
import { RecordingRunner, type RunResult } from '../runner.ts';
import { down, type Progress, runStep, TwinError, up } from './execute.ts';
import { resolveConfig } from './plan.ts';

const root = mkdtempSync(join(tmpdir(), 'e2m-twin-test-'));
const base = resolveConfig({
  root,
  env: {},
  flags: {},
  provisionScript: 'x',
  gcsBinary: '/nonexistent/fake-gcs-server',
  gcsTag: 't',
  cacheDir: '/cache/twin',
  nodeBin: '/usr/bin/node',
});
const messages: string[] = [];
const progress: Progress = {
  info: (m) => messages.push(m),
  start: () => {},
  done: () => {},
  fail: (t) => messages.push(`FAILED ${t}`),
};

type Docker = { running: string[]; images: string[]; networks: string[]; colours?: string[] };
/** A pretend Docker engine: answers inspect commands from `d`, everything else succeeds. */
function fakeDocker(d: Docker) {
  return new RecordingRunner((argv): Partial<RunResult> | undefined => {
    const [cmd, sub, verb] = argv;
    if (cmd !== 'docker') return undefined;
    const last = argv[argv.length - 1];
    if (sub === 'container' && verb === 'inspect')
      return d.running.includes(last)
        ? {
            stdout: argv.includes('{{.State.Running}}')
              ? 'true\n'
              : argv.includes('{{.HostConfig.NanoCpus}}')
                ? '2000000000\n'
                : '',
          }
        : { code: 1, stderr: 'No such container' };
    if (sub === 'image' && verb === 'inspect') return d.images.includes(last) ? {} : { code: 1 };
    if (sub === 'network' && verb === 'inspect') return d.networks.includes(last) ? {} : { code: 1 };
    if (sub === 'exec' && argv.slice(3, 5).join(' ') === 'docker ps')
      return { stdout: (d.colours ?? []).join('\n') };
    return undefined;
  });
}

function freePortHolder(): Promise<{ port: number; close: () => void }> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      resolve({ port: typeof addr === 'object' && addr ? addr.port : 0, close: () => s.close() });
    });
  });
}

describe('up', () => {
  it('on a running twin at another CPU profile applies it live and says so', async () => {
    const rec = fakeDocker({
      running: ['e2m-twin', 'e2m-twin-gcs'],
      images: [],
      networks: ['e2m-twin-net'],
      colours: ['c1', 'c2'],
    });
    const inventoryFile = join(mkdtempSync(join(tmpdir(), 'e2m-twin-cpu-')), 'inventory', 'twin.yml');
    const micro = { ...base, cpuProfile: 'e2-micro' as const, cpus: 0.5, inventoryFile };
    expect(await up(rec, micro, progress)).toBe(0);
    // Down: the colours inside first, as cgroup v1 refuses a parent's quota below a child's.
    expect(rec.commands.filter((c) => c.includes('docker update'))).toEqual([
      'docker exec e2m-twin docker update --cpus 0.5 c1 c2',
      'docker update --cpus 0.5 e2m-twin',
    ]);
    expect(messages.at(-1)).toMatch(
      /twin is already up .* CPU profile now e2-micro \(0.5 CPUs; app colours 0.5/,
    );
    // The next deploy caps its colour within the profile (cgroup v1 refuses more than the twin's).
    expect(
      YAML.parse(await readFile(micro.inventoryFile, 'utf8')).all.children.e2micro.vars.e2m_app_cpus,
    ).toBe(0.5);
  });

  it('on a running twin says so and runs nothing that changes anything', async () => {
    const rec = fakeDocker({ running: ['e2m-twin', 'e2m-twin-gcs'], images: [], networks: ['e2m-twin-net'] });
    expect(await up(rec, base, progress)).toBe(0);
    expect(messages.at(-1)).toMatch(/twin is already up .* nothing changed/);
    const changing = rec.commands.filter(
      (c) => !/^docker (info|image inspect|network inspect|container inspect)/.test(c),
    );
    expect(changing).toEqual([]);
  });

  it('refuses a port already in use, naming the port and how to change it', async () => {
    const held = await freePortHolder();
    try {
      const cfg = { ...base, ports: { ssh: 0, http: 0, https: held.port, gcs: 0 } };
      const rec = fakeDocker({ running: [], images: [cfg.baseImage, cfg.gcsImage], networks: [] });
      await expect(up(rec, cfg, progress)).rejects.toThrow(
        new TwinError(
          `port ${held.port} on 127.0.0.1 (https) is already in use: free it or choose another with --https-port or E2M_TWIN_HTTPS_PORT`,
        ),
      );
      expect(rec.commands.some((c) => c.startsWith('docker run'))).toBe(false);
    } finally {
      held.close();
    }
  });

  it('says where to get the emulator when its binary is missing', async () => {
    const rec = fakeDocker({ running: [], images: [base.baseImage], networks: [] });
    const cfg = { ...base, ports: { ssh: 0, http: 0, https: 0, gcs: 0 } };
    await expect(up(rec, cfg, progress)).rejects.toThrow(
      'fake-gcs-server not found at /nonexistent/fake-gcs-server: install it with bash .ci/install.d/40-twin.sh',
    );
  });

  it('says how to start Docker when the engine does not answer', async () => {
    const rec = new RecordingRunner((argv) =>
      argv[1] === 'info' ? { code: 1, stderr: 'Cannot connect to the Docker daemon' } : undefined,
    );
    await expect(up(rec, base, progress)).rejects.toThrow(/the Docker engine does not answer .*45-docker.sh/);
  });

  it('dry run prints the plan and changes nothing', async () => {
    const rec = fakeDocker({ running: [], images: [], networks: [] });
    const cfg = { ...base, ports: { ssh: 0, http: 0, https: 0, gcs: 0 }, gcsBinary: process.execPath };
    expect(await up(rec, cfg, progress, { dryRun: true })).toBe(0);
    expect(
      rec.commands.every((c) => /^docker (info|image inspect|network inspect|container inspect)/.test(c)),
    ).toBe(true);
    expect(messages.join('\n')).toMatch(/debootstrap --variant=minbase/);
  });
});

describe('down', () => {
  it('on a twin that is down says so and changes nothing', async () => {
    const rec = fakeDocker({ running: [], images: [], networks: [] });
    expect(await down(rec, base, progress)).toBe(0);
    expect(messages.at(-1)).toBe('twin is already down; nothing changed');
    expect(rec.commands.filter((c) => /docker (rm|network rm|volume rm)/.test(c))).toEqual([]);
  });

  it('removes the containers, network, volume and inventory', async () => {
    const rec = fakeDocker({ running: ['e2m-twin', 'e2m-twin-gcs'], images: [], networks: ['e2m-twin-net'] });
    expect(await down(rec, base, progress)).toBe(0);
    expect(rec.commands.filter((c) => /docker (rm|network rm|volume rm)/.test(c))).toEqual([
      'docker rm --force --volumes e2m-twin',
      'docker rm --force e2m-twin-gcs',
      'docker network rm e2m-twin-net',
      'docker volume rm --force e2m-twin-docker',
    ]);
  });
});

describe('runStep wait', () => {
  it('retries until the expected answer', async () => {
    let n = 0;
    const rec = new RecordingRunner(() => ({ stdout: ++n < 3 ? 'starting\n' : 'running\n' }));
    await runStep(
      rec,
      {
        kind: 'wait',
        title: 'boot',
        argv: ['systemctl', 'is-system-running'],
        expect: 'running',
        timeoutMs: 5000,
        intervalMs: 1,
      },
      progress,
    );
    expect(rec.commands.length).toBe(3);
  });

  it('fails at once on a final bad answer, and on timeout with the last output', async () => {
    const degraded = new RecordingRunner(() => ({ code: 1, stdout: 'degraded\n' }));
    await expect(
      runStep(
        degraded,
        {
          kind: 'wait',
          title: 'boot',
          argv: ['x'],
          expect: 'running',
          failOn: ['degraded'],
          timeoutMs: 5000,
          intervalMs: 1,
        },
        progress,
      ),
    ).rejects.toThrow('boot: got "degraded"');
    const never = new RecordingRunner(() => ({ code: 255, stderr: 'Connection refused' }));
    await expect(
      runStep(never, { kind: 'wait', title: 'sshd', argv: ['ssh'], timeoutMs: 30, intervalMs: 10 }, progress),
    ).rejects.toThrow(/sshd: not ready after 0.03s \(last: exit 255 Connection refused\)/);
    expect(messages.at(-1)).toBe('FAILED sshd');
  });
});
