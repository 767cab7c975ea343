// The VM's identity on the path to GCP, rehearsed on the fresh twin: `npm run infra:inventory`
// pins the host keys the VM publishes as guest attributes (read through the local Compute API
// stand-in), the scripts and Ansible both connect through that pin, a changed key is refused by
// both, no pin means no connection, and SSH goes through the IAP tunnel's ProxyCommand.
// The keys are those the twin's guest agent published at its first boot, read from the twin's
// metadata server and served by the stand-in as the Compute API would.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshRunner } from '../../scripts/lib/runner.ts';
import { loadTarget, type Target } from '../../scripts/lib/target.ts';
import { type GuestAttribute, startComputeFake } from '../support/compute-fake.ts';
import { root, twinConfig, twinTarget } from './support/twin.ts';

const vm = { project: 'e2m-rehearsal-1', zone: 'us-central1-b', instance: 'e2m-twin' };
const dir = mkdtempSync(join(tmpdir(), 'e2m-ssh-identity-'));
let twin: Target;
let hostKeys: GuestAttribute[];

/** The host keys the twin's guest agent published: hostkeys/<type> = base64. */
function twinHostKeys(): GuestAttribute[] {
  const url = 'http://metadata.google.internal/computeMetadata/v1/instance/guest-attributes/hostkeys/';
  const r = spawnSync(
    'docker',
    [
      'exec',
      twinConfig().container,
      'curl',
      '-fsS',
      '-H',
      'Metadata-Flavor: Google',
      `${url}?recursive=true`,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`cannot read the twin's published host keys: ${r.stderr}`);
  const published = JSON.parse(r.stdout) as Record<string, string>;
  return Object.entries(published).map(([key, value]) => ({ namespace: 'hostkeys', key, value }));
}

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

/** A loopback port nothing listens on: a direct connection there is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** `npm run infra:inventory` as a user runs it, against outputs for the twin and the stand-in API. */
async function writeInventory(
  name: string,
  attrs: GuestAttribute[],
  extra: Record<string, unknown>,
  args: string[],
) {
  const api = await startComputeFake(vm, attrs);
  try {
    const outputs = Object.fromEntries(
      Object.entries({
        environment: 'staging',
        project_id: vm.project,
        instance_name: vm.instance,
        instance_zone: vm.zone,
        external_ip: '127.0.0.1',
        admin_user: twin.user,
        ssh_port: twin.port,
        domain: 'localhost',
        tls_mode: 'internal',
        backup_bucket: twin.bucket,
        ...extra,
      }).map(([k, value]) => [k, { value }]),
    );
    const outFile = join(dir, `${name}.json`);
    writeFileSync(outFile, JSON.stringify(outputs));
    const inventory = join(dir, `${name}.yml`);
    // Not spawnSync: the stand-in API answers from this very process.
    const r = await run(process.execPath, [
      'scripts/gcp-inventory.mjs',
      ...['--key', twin.keyFile, '--outputs', outFile, '--out', inventory],
      ...['--compute-endpoint', api.endpoint, ...args],
    ]);
    expect(r.code, r.out).toBe(0);
    return inventory;
  } finally {
    await api.close();
  }
}

function ansiblePing(inventory: string, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync('ansible', ['-i', inventory, 'e2micro', '-m', 'ansible.builtin.ping'], {
    cwd: join(root, 'ansible'),
    encoding: 'utf8',
    // A control socket of its own: ControlPersist would otherwise hand this run the previous
    // run's open connection to the same host and port, whose key was checked back then.
    env: { ...env, ANSIBLE_NOCOLOR: '1', ANSIBLE_SSH_CONTROL_PATH_DIR: mkdtempSync(join(dir, 'cp-')) },
  });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

const targetOf = (inventory: string) => loadTarget('staging', root, { E2M_INVENTORY: inventory });

beforeAll(() => {
  twin = twinTarget();
  hostKeys = twinHostKeys();
});

describe('ssh identity: host keys pinned from guest attributes', () => {
  it('lets the scripts and Ansible in through the keys the VM published', async () => {
    const inventory = await writeInventory('pinned', hostKeys, {}, ['--ssh', 'direct']);
    expect(readFileSync(join(dir, 'pinned.known_hosts'), 'utf8')).toContain(
      `[127.0.0.1]:${twin.port} ssh-ed25519 `,
    );
    const ssh = await SshRunner.connect(targetOf(inventory));
    try {
      expect(await ssh.capture(['hostname'])).toBe('e2m-twin');
    } finally {
      await ssh.close();
    }
    const ping = ansiblePing(inventory);
    expect(ping.code, ping.out).toBe(0);
    expect(ping.out).toMatch(/ping: pong/);
  });

  it('refuses a VM whose key is not the pinned one, in the scripts and in Ansible', async () => {
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'impostor')]);
    const [key, value] = readFileSync(join(dir, 'impostor.pub'), 'utf8').split(' ');
    const inventory = await writeInventory('impostor', [{ namespace: 'hostkeys', key, value }], {}, [
      '--ssh',
      'direct',
    ]);
    await expect(SshRunner.connect(targetOf(inventory))).rejects.toThrow(
      /the host key of 127\.0\.0\.1:\d+ \(SHA256:\S+\) is not one .*impostor\.known_hosts pins: refusing to connect/,
    );
    const ping = ansiblePing(inventory);
    expect(ping.code).not.toBe(0);
    expect(ping.out).toMatch(/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
  });

  it('refuses to connect at all without a known_hosts file', async () => {
    const { knownHostsFile, ...unpinned } = targetOf(join(dir, 'pinned.yml'));
    expect(knownHostsFile).toBeTruthy();
    await expect(SshRunner.connect(unpinned)).rejects.toThrow(
      /no known_hosts file pins the host key of 127\.0\.0\.1:\d+: refusing to connect/,
    );
  });
});

describe('ssh identity: through the IAP tunnel (ProxyCommand)', () => {
  let env: NodeJS.ProcessEnv;
  let inventory: string;
  const log = join(dir, 'tunnel.log');
  const path = process.env.PATH;

  beforeAll(async () => {
    // `gcloud` on PATH is the stand-in; the inventory names a port nothing listens on, so only
    // the tunnel reaches the twin.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'gcloud'),
      `#!/bin/sh\nexec node ${join(root, 'test/support/iap-tunnel-standin.mjs')} "$@"\n`,
    );
    chmodSync(join(bin, 'gcloud'), 0o755);
    env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      E2M_IAP_STANDIN_PORT: String(twin.port),
      E2M_IAP_STANDIN_LOG: log,
    };
    inventory = await writeInventory('iap', hostKeys, { ssh_port: await closedPort() }, []);
    // SshRunner starts the proxy command with this process's environment.
    Object.assign(process.env, {
      PATH: env.PATH,
      E2M_IAP_STANDIN_PORT: env.E2M_IAP_STANDIN_PORT,
      E2M_IAP_STANDIN_LOG: log,
    });
  });
  afterAll(() => {
    process.env.PATH = path;
    for (const k of ['E2M_IAP_STANDIN_PORT', 'E2M_IAP_STANDIN_LOG', 'E2M_IAP_STANDIN_REFUSE'])
      delete process.env[k];
  });

  it('connects the scripts through the tunnel command the inventory names', async () => {
    const target = targetOf(inventory);
    expect(target.proxyCommand).toMatch(/^gcloud compute start-iap-tunnel e2m-twin %p --listen-on-stdin /);
    const ssh = await SshRunner.connect(target);
    try {
      expect(await ssh.capture(['hostname'])).toBe('e2m-twin');
    } finally {
      await ssh.close();
    }
    expect(readFileSync(log, 'utf8')).toMatch(
      new RegExp(
        `^compute start-iap-tunnel e2m-twin ${target.port} --listen-on-stdin --project=e2m-rehearsal-1 --zone=us-central1-b`,
        'm',
      ),
    );
  });

  it('connects Ansible through the same tunnel', () => {
    const before = readFileSync(log, 'utf8').split('\n').length;
    const ping = ansiblePing(inventory, env);
    expect(ping.code, ping.out).toBe(0);
    expect(readFileSync(log, 'utf8').split('\n').length).toBeGreaterThan(before);
  });

  it("names the tunnel's own error when IAP refuses", async () => {
    process.env.E2M_IAP_STANDIN_REFUSE = '1';
    try {
      await expect(SshRunner.connect(targetOf(inventory), { readyTimeoutMs: 10_000 })).rejects.toThrow(
        /the proxy command said: ERROR: \(gcloud\.compute\.start-iap-tunnel\) Error while connecting \[4033: 'not authorized'\]/,
      );
    } finally {
      delete process.env.E2M_IAP_STANDIN_REFUSE;
    }
  });
});
