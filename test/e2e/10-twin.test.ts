// The fresh twin, as Ansible and our scripts see it: SSH with the generated key, a GCP-like
// debian-12 (systemd PID 1, sudo, python3, apt, no Docker), the 1 GB / 2 CPU / no-swap box,
// loopback-only ports, `ansible -m ping`, and GCS round trips from this machine and from inside.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorage } from '../../scripts/lib/gcs.ts';
import type { SshRunner } from '../../scripts/lib/runner.ts';
import type { Target } from '../../scripts/lib/target.ts';
import { twinCgroup } from '../../scripts/lib/twin/plan.ts';
import { connect, root, sudo, twinCli, twinConfig, twinTarget } from './support/twin.ts';

// The emulator needs no credentials; never probe the metadata server (not ours to contact).
process.env.METADATA_SERVER_DETECTION = 'none';

let target: Target;
const names = twinConfig();
let ssh: SshRunner;

beforeAll(async () => {
  target = twinTarget();
  ssh = await connect(target);
});
afterAll(async () => {
  await ssh?.close();
});

describe('twin: the CLI', () => {
  it('status reports up with exit 0', () => {
    const r = twinCli('status');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/twin: up/);
    expect(r.out).toMatch(/systemd: running/);
  });

  it('up on a running twin says so, changes nothing and exits 0', () => {
    const before = spawnSync('docker', ['inspect', '-f', '{{.Id}} {{.State.StartedAt}}', names.container], {
      encoding: 'utf8',
    }).stdout;
    const r = twinCli('up');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/already up; nothing changed|already up .*nothing changed/);
    const after = spawnSync('docker', ['inspect', '-f', '{{.Id}} {{.State.StartedAt}}', names.container], {
      encoding: 'utf8',
    }).stdout;
    expect(after).toBe(before);
  });

  it('rejects an unknown command with exit 2 and the usage', () => {
    const r = twinCli('explode');
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/unknown command "explode"/);
    expect(r.out).toMatch(/Usage: npm run twin/);
  });

  it('ssh runs a command on the twin and passes its exit code through', () => {
    expect(twinCli('ssh', '--', 'hostname').out.trim()).toBe('e2m-twin');
    expect(twinCli('ssh', '--', 'exit 7').code).toBe(7);
  });
});

/** A value from the twin's metadata server, read on the twin as its own programs read it. */
const fromMetadata = (path: string) =>
  ssh.capture([
    'curl',
    '-fsS',
    '-H',
    'Metadata-Flavor: Google',
    `http://metadata.google.internal/computeMetadata/v1/${path}`,
  ]);

describe('twin: looks like a fresh GCP debian-12 VM', () => {
  it('lets ops in with the generated key, with passwordless sudo', async () => {
    expect(await ssh.capture(['whoami'])).toBe('ops');
    expect((await sudo(ssh, ['id', '-u'])).stdout.trim()).toBe('0');
  });

  it("has run the startup script Terraform gives the VM (terraform/startup.sh.tftpl) by GCP's script runner", async () => {
    const log = await sudo(ssh, ['journalctl', '-o', 'cat', '-u', 'google-startup-scripts']);
    expect(log.stdout).toContain('Found startup-script in metadata.');
    expect(log.stdout).toContain('startup-script exit status 0');
    const ready = await ssh.capture(['cat', '/var/lib/e2m/ready']);
    expect(ready).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.now() - Date.parse(ready)).toBeLessThan(60 * 60_000);
  });

  it("has GCP's metadata server at 169.254.169.254 and metadata.google.internal, with the header rule", async () => {
    const md = (url: string, flavor = true) =>
      ssh.run(
        [
          'curl',
          '-sS',
          '-o',
          '-',
          '-w',
          '\n%{http_code}',
          ...(flavor ? ['-H', 'Metadata-Flavor: Google'] : []),
          url,
        ],
        {
          check: false,
        },
      );
    const project = await md('http://169.254.169.254/computeMetadata/v1/project/project-id');
    expect(project.stdout.trim().split('\n')).toEqual([names.projectId, '200']);
    const email = await md(
      'http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/email',
    );
    expect(email.stdout.trim().split('\n')).toEqual([
      `e2m-${names.env}-vm@${names.projectId}.iam.gserviceaccount.com`,
      '200',
    ]);
    const bare = await md('http://169.254.169.254/computeMetadata/v1/project/project-id', false);
    expect(bare.stdout.trim().split('\n').at(-1)).toBe('403');
  });

  it("has Debian's google-guest-agent running, which made ops from the metadata ssh-keys as on GCP", async () => {
    expect(await ssh.capture(['systemctl', 'is-active', 'google-guest-agent'])).toBe('active');
    const keys = await fromMetadata('instance/attributes/ssh-keys');
    // The agent's own format: each key it manages under its marker line.
    const authorized = await ssh.capture(['cat', '.ssh/authorized_keys']);
    expect(`${authorized}\n`).toContain(`# Added by Google\n${keys.replace(/^ops:/, '')}\n`);
    // Its sudo: the google-sudoers group and the file it writes; the image has no user of its own.
    expect((await ssh.capture(['id', '-nG'])).split(' ')).toContain('google-sudoers');
    expect((await sudo(ssh, ['cat', '/etc/sudoers.d/google_sudoers'])).stdout.trim()).toBe(
      '%google-sudoers ALL=(ALL:ALL) NOPASSWD:ALL',
    );
    expect((await sudo(ssh, ['ls', '/etc/sudoers.d'])).stdout.split('\n')).not.toContain('90-ops');
  });

  it('has its host keys published by the agent as guest attributes, the ones sshd serves', async () => {
    const served = (await ssh.capture(['cat', '/etc/ssh/ssh_host_ed25519_key.pub'])).split(' ')[1];
    expect(await fromMetadata('instance/guest-attributes/hostkeys/ssh-ed25519')).toBe(served);
    // What `twin up` pinned is that published key.
    expect(readFileSync(names.knownHostsFile, 'utf8')).toContain(`ssh-ed25519 ${served}`);
  });

  it('runs systemd as PID 1 and reaches the running state', async () => {
    expect(await ssh.capture(['ps', '-o', 'comm=', '-p', '1'])).toBe('systemd');
    expect(await ssh.capture(['systemctl', 'is-system-running'])).toBe('running');
    expect(await ssh.capture(['systemctl', 'is-active', 'ssh'])).toBe('active');
  });

  it('is Debian 12 with python3 and without Docker', async () => {
    expect(await ssh.capture(['sh', '-c', '. /etc/os-release && echo $ID-$VERSION_ID'])).toBe('debian-12');
    expect(await ssh.capture(['python3', '-c', 'import sys, apt; print(sys.version_info.major)'])).toBe('3');
    const docker = await ssh.run(['sh', '-c', 'command -v docker dockerd'], { check: false });
    expect(docker.code, 'a fresh VM has no Docker').not.toBe(0);
  });

  it('has working apt (Debian mirrors reachable), and empty package lists as a newcomer meets it', async () => {
    // The probe updates a private copy of the lists: warming the twin's own would hide a
    // converge that never updates them (issue 16: a cold twin found no package).
    const lists = await ssh.capture(['sh', '-c', 'ls /var/lib/apt/lists | grep -c _Packages || true']);
    expect(lists, 'a fresh twin has no package lists').toBe('0');
    const dir = [
      '-o',
      'Dir::State::Lists=/tmp/e2m-apt-probe/lists',
      '-o',
      'Dir::Cache=/tmp/e2m-apt-probe/cache',
    ];
    await ssh.run([
      'mkdir',
      '-p',
      '/tmp/e2m-apt-probe/lists/partial',
      '/tmp/e2m-apt-probe/cache/archives/partial',
    ]);
    const r = await sudo(ssh, ['apt-get', ...dir, 'update', '-qq']);
    expect(r.code).toBe(0);
    expect(await ssh.capture(['apt-cache', ...dir, 'policy', 'docker.io'])).toMatch(/Candidate: \d/);
    await sudo(ssh, ['rm', '-rf', '/tmp/e2m-apt-probe']);
    expect(await ssh.capture(['sh', '-c', 'ls /var/lib/apt/lists | grep -c _Packages || true'])).toBe('0');
  });

  it('refuses password logins and root logins over SSH', async () => {
    const cfg = await sudo(ssh, ['sshd', '-T']);
    expect(cfg.stdout).toMatch(/^passwordauthentication no$/m);
    expect(cfg.stdout).toMatch(/^permitrootlogin no$/m);
  });
});

describe('twin: the e2-micro box', () => {
  it('has exactly 1 GiB of memory, no swap and 2 CPUs in its cgroup', async () => {
    const cg = twinCgroup(await ssh.capture(['cat', '/proc/1/cgroup']));
    const read = (f: string) => ssh.capture(['cat', f]).then(Number);
    if (cg.version === 1) {
      expect(await read(`/sys/fs/cgroup/memory${cg.path}/memory.limit_in_bytes`)).toBe(2 ** 30);
      expect(await read(`/sys/fs/cgroup/memory${cg.path}/memory.memsw.limit_in_bytes`)).toBe(2 ** 30);
      const quota = await read(`/sys/fs/cgroup/cpu${cg.path}/cpu.cfs_quota_us`);
      const period = await read(`/sys/fs/cgroup/cpu${cg.path}/cpu.cfs_period_us`);
      expect(quota / period).toBe(2);
    } else {
      expect(await read(`/sys/fs/cgroup${cg.path}/memory.max`)).toBe(2 ** 30);
      expect(await ssh.capture(['cat', `/sys/fs/cgroup${cg.path}/memory.swap.max`])).toBe('0');
      expect(await ssh.capture(['cat', `/sys/fs/cgroup${cg.path}/cpu.max`])).toBe('200000 100000');
    }
    expect(await ssh.capture(['sh', '-c', 'tail -n +2 /proc/swaps | wc -l'])).toBe('0');
    expect(Number(await ssh.capture(['nproc']))).toBeGreaterThanOrEqual(2);
  });

  it('publishes SSH, HTTP and HTTPS on 127.0.0.1 only', () => {
    const ports = spawnSync('docker', ['port', names.container], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n');
    expect(ports.length).toBe(3);
    for (const line of ports) expect(line).toMatch(/ -> 127\.0\.0\.1:\d+$/);
    expect(ports.join('\n')).toContain(`22/tcp -> 127.0.0.1:${target.port}`);
  });

  it('lays down the docker.service drop-in that nests a future Docker under the twin cgroup', async () => {
    const cg = twinCgroup(await ssh.capture(['cat', '/proc/1/cgroup']));
    const dropIn = await ssh.capture([
      'cat',
      '/etc/systemd/system/docker.service.d/10-e2m-twin-cgroup-parent.conf',
    ]);
    expect(dropIn).toContain(`--cgroup-parent=${cg.path}/inner`);
  });
});

describe('twin: Ansible', () => {
  it('answers ansible -m ping over inventory/twin.yml', () => {
    const r = spawnSync('ansible', ['-i', 'inventory/twin.yml', 'e2micro', '-m', 'ansible.builtin.ping'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_NOCOLOR: '1' },
    });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/twin \| SUCCESS/);
    expect(r.stdout).toMatch(/"ping": "pong"/);
  });
});

describe('twin: GCS emulator', () => {
  it('has the buckets Terraform would create', async () => {
    const [buckets] = await createStorage(target).getBuckets();
    expect(buckets.map((b) => b.name).sort()).toEqual(['e2m-twin-backups', 'e2m-twin-tfstate']);
    expect(target.bucket).toBe('e2m-twin-backups');
  });

  it('round-trips an object from this machine through @google-cloud/storage', async () => {
    const bucket = createStorage(target).bucket(target.bucket);
    const name = `e2e/host-${process.pid}.txt`;
    const body = `from the host ${new Date().toISOString()}`;
    await bucket.file(name).save(body, { resumable: false });
    const [listed] = await bucket.getFiles({ prefix: 'e2e/host-' });
    expect(listed.map((f) => f.name)).toContain(name);
    const [downloaded] = await bucket.file(name).download();
    expect(downloaded.toString()).toBe(body);
    await bucket.file(name).delete();
    const [after] = await bucket.getFiles({ prefix: 'e2e/host-' });
    expect(after.map((f) => f.name)).not.toContain(name);
  });

  it('round-trips an object from inside the twin, by the emulator name in the inventory', async () => {
    const base = target.vmGcsEndpoint;
    expect(base).toBe(`http://${names.gcsContainer}:4443`);
    const bucket = target.bucket;
    const name = 'e2e/from-twin.txt';
    const body = `from inside the twin ${Date.now()}`;
    const curl = (...args: string[]) => ssh.capture(['curl', '-fsS', ...args]);
    await ssh.run(
      [
        'curl',
        '-fsS',
        '-o',
        '/dev/null',
        '-X',
        'POST',
        '-H',
        'Content-Type: text/plain',
        '--data-binary',
        '@-',
        `${base}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(name)}`,
      ],
      { input: body },
    );
    const listed = JSON.parse(await curl(`${base}/storage/v1/b/${bucket}/o?prefix=e2e/`)) as {
      items?: { name: string }[];
    };
    expect((listed.items ?? []).map((i) => i.name)).toContain(name);
    expect(await curl(`${base}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}?alt=media`)).toBe(body);
    // The same object, seen from this machine: one emulator serves both sides.
    const [fromHost] = await createStorage(target).bucket(bucket).file(name).download();
    expect(fromHost.toString()).toBe(body);
    await curl('-X', 'DELETE', `${base}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`);
    const gone = await ssh.run(
      ['curl', '-fsS', '-o', '/dev/null', `${base}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`],
      { check: false },
    );
    expect(gone.code, 'curl -f fails on 404 after delete').not.toBe(0);
  });
});
