// The kernel twin (`npm run twin -- up --kernel`, issue 21) from a fresh clone, as a user types
// it: Debian's cloud kernel in a QEMU guest with 1 GB and a 10 GB disk, reached over SSH with
// the pinned host key and the same inventory shape as the container twin. What only a kernel of
// its own shows is read back: its own /proc/meminfo, a writable sysctl, a block device, IPv4 and
// IPv6 on the guest's network. A converge there is on demand (docs/twin.md), not in CI.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshRunner } from '../../scripts/lib/runner.ts';
import { loadTarget } from '../../scripts/lib/target.ts';
import { loadConfig } from '../../scripts/lib/twin/execute.ts';

const root = resolve(import.meta.dirname, '..', '..');
const MiB = 2 ** 20;
/** Names and ports as `npm run twin` resolves them here (E2M_TWIN_* included). */
const cfg = loadConfig(root, process.env, { kernel: true });
const { ssh: sshPort, gcs: gcsPort } = cfg.ports;

function twin(...args: string[]): { code: number; out: string; seconds: number } {
  const t0 = Date.now();
  const r = spawnSync('npm', ['run', '-s', 'twin', '--', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 20 * 60_000,
  });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}`, seconds: (Date.now() - t0) / 1000 };
}

let ssh: SshRunner;
let upOut = '';

beforeAll(() => {
  const up = twin('up', '--kernel');
  upOut = up.out;
  console.log(`kernel twin: up (disk built if not cached, then boot) took ${up.seconds.toFixed(1)}s`);
  if (up.code !== 0) throw new Error(`twin up --kernel exited ${up.code}:\n${up.out}`);
}, 25 * 60_000);

afterAll(async () => {
  await ssh?.close();
  twin('down');
});

describe('twin up --kernel', () => {
  it('reports each step with its time and says how to reach the guest', () => {
    expect(upOut).toMatch(/<== boot QEMU \(TCG, 1024 MiB, 2 vCPUs, Debian cloud kernel\): ok in/);
    expect(upOut).toMatch(
      /<== wait for the guest to boot \(its QEMU guest agent answers\): ok in (\d+\.\d)s/,
    );
    expect(upOut).toMatch(
      new RegExp(`twin is up in [\\d.]+s: ssh ops@127\\.0\\.0\\.1 -p ${sshPort} .*QEMU guest, 1024 MiB`),
    );
  });

  it('is reached over SSH as ops with the host key the guest agent published, pinned', async () => {
    const target = loadTarget('twin', root);
    const knownHosts = readFileSync(cfg.knownHostsFile, 'utf8');
    expect(knownHosts).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshPort} ssh-ed25519 \\S+\\n$`));
    ssh = await SshRunner.connect(target);
    expect(await ssh.capture(['id', '-un'])).toBe('ops');
    expect(await ssh.capture(['sudo', '-n', 'true'])).toBe('');
    const inventory = readFileSync(cfg.inventoryFile, 'utf8');
    expect(inventory).toContain('e2m_twin_kernel: true');
    expect(inventory).toContain(`e2m_gcs_endpoint: http://10.0.2.2:${gcsPort}`);
  });

  it("runs Debian's cloud kernel with 1 GB of its own, a 10 GB disk and a writable sysctl", async () => {
    expect(await ssh.capture(['uname', '-r'])).toMatch(/-cloud-amd64$/);
    const meminfo = await ssh.capture(['cat', '/proc/meminfo']);
    const total = Number(/^MemTotal:\s+(\d+) kB/m.exec(meminfo)?.[1]) * 1024;
    const available = Number(/^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1]) * 1024;
    console.log(
      `kernel twin idle: MemTotal ${(total / MiB).toFixed(0)} MiB, used (total - available) ${((total - available) / MiB).toFixed(0)} MiB`,
    );
    // 1024 MiB of RAM less what the kernel keeps for itself: not this machine's memory.
    expect(total).toBeGreaterThan(900 * MiB);
    expect(total).toBeLessThanOrEqual(1024 * MiB);
    expect(await ssh.capture(['findmnt', '-no', 'SOURCE,FSTYPE', '/'])).toBe('/dev/vda ext4');
    const size = Number(await ssh.capture(['lsblk', '-bdno', 'SIZE', '/dev/vda']));
    expect(size).toBe(10 * 2 ** 30);
    // A sysctl the container twin cannot write (its /proc/sys is the host's, read-only).
    const read = () => ssh.capture(['/usr/sbin/sysctl', '-n', 'net.ipv4.tcp_syncookies']);
    const before = await read();
    await ssh.run(['sudo', '-n', 'sysctl', '-qw', `net.ipv4.tcp_syncookies=${before === '1' ? 2 : 1}`]);
    expect(await read()).not.toBe(before);
    await ssh.run(['sudo', '-n', 'sysctl', '-qw', `net.ipv4.tcp_syncookies=${before}`]);
  });

  it('has IPv4 and IPv6 on its own network, and the metadata server at 169.254.169.254', async () => {
    // IPv6 comes from a router advertisement, the answer to a router solicitation that networkd
    // repeats with a growing interval: a busy emulated guest may take a while to get it.
    const addresses = await ssh.capture([
      'sh',
      '-c',
      // QEMU's user network hands out fec0::/64, site-local in the kernel's eyes (not `scope global`).
      'for i in $(seq 180); do ip -6 -br address | grep -q fec0:: && break; sleep 1; done; ip -br address',
    ]);
    expect(addresses).toMatch(/10\.0\.2\.15\/24/);
    const network = await ssh.run(['networkctl', 'status', '--no-pager', '-n', '20'], { check: false });
    expect(addresses, `no IPv6 address within 180 s:\n${network.stdout}`).toMatch(/fec0::[0-9a-f:]+\/64/);
    expect(
      await ssh.capture([
        'curl',
        '-fsS',
        '-H',
        'Metadata-Flavor: Google',
        'http://metadata.google.internal/computeMetadata/v1/project/project-id',
      ]),
    ).toBe(cfg.projectId);
    // The GCS emulator on this machine's loopback, through QEMU's user network.
    expect(
      await ssh.capture([
        'curl',
        '-fsS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `http://10.0.2.2:${gcsPort}/storage/v1/b?project=${cfg.projectId}`,
      ]),
    ).toBe('200');
  });

  it('publishes its ports on loopback only', () => {
    const listening = spawnSync('ss', ['-Hltn'], { encoding: 'utf8' }).stdout;
    for (const port of [sshPort, cfg.ports.http, cfg.ports.https]) {
      const lines = listening.split('\n').filter((l) => new RegExp(`:${port}\\s`).test(l));
      expect(lines.length, `port ${port}`).toBeGreaterThan(0);
      for (const l of lines) expect(l).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}\\s`));
    }
  });

  it('tells status, up again and a CPU profile it cannot honour apart; down removes it', async () => {
    await ssh.close(); // before the guest goes away under it
    const status = twin('status');
    expect(status.code).toBe(0);
    expect(status.out).toContain(
      `${cfg.container} (QEMU guest, kernel of its own): running (systemd: running)`,
    );
    expect(status.out).toMatch(/memory \(meminfo\): \d+ MiB used of (9\d\d|10[01]\d) MiB/);
    const again = twin('up', '--kernel');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/twin is already up/);
    const cpu = twin('up', '--kernel', '--cpu', 'e2-micro');
    expect(cpu.code).toBe(1);
    expect(cpu.out).toContain(
      'twin: --cpu e2-micro is for the container twin; the kernel twin has 2 emulated vCPUs',
    );
    const pid = Number(readFileSync(resolve(cfg.kernelDir, 'qemu.pid'), 'utf8'));
    const down = twin('down');
    expect(down.code, down.out).toBe(0);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(cfg.kernelDir)).toBe(false);
    expect(existsSync(cfg.inventoryFile)).toBe(false);
    expect(twin('status').code).toBe(3);
  });
});
