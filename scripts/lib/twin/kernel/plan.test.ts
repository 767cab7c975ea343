import { describe, expect, it } from 'vitest';
import { twinInput } from '../../../../test/support/twin-fixtures.ts';
import { toShell } from '../../shell.ts';
import { execIn, inventoryYaml, resolveConfig, type Step, upSteps } from '../plan.ts';
import {
  bootSteps,
  buildKernelSteps,
  checkSocketPath,
  downKernelSteps,
  kernelPaths,
  parseMeminfo,
  qemuArgv,
} from './plan.ts';

const cfg = resolveConfig({ ...twinInput, machine: 'kernel' });
const paths = kernelPaths(cfg);
const shell = (steps: Step[]) => steps.flatMap((s) => ('argv' in s ? [toShell(s.argv)] : []));

describe('the kernel twin', () => {
  it('keeps its disk per recipe in the cache and its run state in .twin/kernel', () => {
    expect(paths).toEqual({
      imageDir: expect.stringMatching(/^\/cache\/twin\/kernel-[0-9a-f]{12}$/),
      runDir: '/repo/.twin/kernel',
      overlay: '/repo/.twin/kernel/disk.qcow2',
      socket: '/repo/.twin/kernel/qga.sock',
      pidFile: '/repo/.twin/kernel/qemu.pid',
      console: '/repo/.twin/kernel/console.log',
    });
    expect(cfg.qgaSocket).toBe(paths.socket);
    const second = resolveConfig({ ...twinInput, machine: 'kernel', env: { E2M_TWIN_INSTANCE: 'k2' } });
    // Per recipe: the base's and the kernel's; not the same directory as another base's.
    expect(kernelPaths(second).imageDir).toBe(paths.imageDir);
    const otherBase = resolveConfig({ ...twinInput, machine: 'kernel', provisionScript: 'echo other' });
    expect(kernelPaths(otherBase).imageDir).not.toBe(paths.imageDir);
    expect(kernelPaths(second)).toMatchObject({
      runDir: '/repo/.twin/kernel-k2',
      socket: '/repo/.twin/kernel-k2/qga.sock',
    });
  });

  it('builds the disk from the same base with the cloud kernel, then moves it into the cache whole', () => {
    const steps = shell(buildKernelSteps(cfg, paths, '/tmp/k', 'echo provision'));
    expect(steps[1]).toMatch(
      /^debootstrap .*--include=.*openssh-server.*,linux-image-cloud-amd64,.*qemu-guest-agent /,
    );
    expect(steps[2]).toBe('chroot /tmp/k/rootfs env E2M_TWIN_KIND=kernel sh -s');
    expect(steps).toContain('mkfs.ext4 -q -F -L e2m-root -d /tmp/k/rootfs /tmp/k/disk.raw');
    expect(steps.at(-2)).toBe(`mv -T /tmp/k/image ${paths.imageDir}`);
  });

  it('boots QEMU with 1 GB, its ports on loopback only, and the agent on a socket of its own', () => {
    const argv = qemuArgv(cfg, paths);
    const net = argv[argv.indexOf('-netdev') + 1];
    expect(net.match(/hostfwd=[^,]+/g)).toEqual([
      'hostfwd=tcp:127.0.0.1:2222-:22',
      'hostfwd=tcp:127.0.0.1:8080-:80',
      'hostfwd=tcp:127.0.0.1:8443-:443',
    ]);
    expect(argv.slice(argv.indexOf('-m'), argv.indexOf('-m') + 4)).toEqual(['-m', '1024', '-smp', '2']);
    expect(argv).toContain(`socket,id=qga0,path=${paths.socket},server=on,wait=off`);
    expect(argv).toContain(`file=${paths.overlay},if=virtio,format=qcow2,discard=unmap`);
    expect(shell(bootSteps(cfg, paths))[1]).toBe(
      `qemu-img create -q -f qcow2 -F qcow2 -b ${paths.imageDir}/disk.qcow2 ${paths.overlay}`,
    );
  });

  it('runs commands in the guest through its agent, not docker exec, and starts no container', () => {
    expect(execIn(cfg, ['cat', '/etc/hostname'], true)).toEqual([
      '/usr/bin/node',
      '/repo/scripts/lib/twin/kernel/qga.ts',
      paths.socket,
      '--stdin',
      '--',
      'cat',
      '/etc/hostname',
    ]);
    const none = {
      baseImage: true,
      gcsImage: true,
      network: true,
      twin: 'absent',
      gcs: 'running',
      keyFile: true,
    };
    expect(upSteps(cfg, none as never)).toEqual([]);
  });

  it('points the VM at the emulator through the guest network and turns kernel settings on', () => {
    const text = inventoryYaml(cfg);
    expect(text).toContain('e2m_gcs_endpoint: http://10.0.2.2:4443');
    expect(text).toContain('e2m_twin_kernel: true');
    expect(inventoryYaml(resolveConfig(twinInput))).not.toContain('e2m_twin_kernel');
  });

  it('stops QEMU and waits for it before it removes the run directory', () => {
    expect(shell(downKernelSteps(paths, 4242))).toEqual([
      'kill 4242',
      "test '!' -e /proc/4242",
      'rm -rf /repo/.twin/kernel',
    ]);
    expect(shell(downKernelSteps(paths, undefined))).toEqual(['rm -rf /repo/.twin/kernel']);
  });

  it('refuses a socket path that does not fit a unix socket', () => {
    expect(checkSocketPath(paths.socket)).toBeUndefined();
    expect(checkSocketPath(`/${'x'.repeat(100)}/qga.sock`)).toMatch(/longer than 100 bytes/);
  });

  it("reads the guest's own memory figures from /proc/meminfo", () => {
    const text = 'MemTotal:         996160 kB\nMemFree:          600000 kB\nMemAvailable:     829440 kB\n';
    expect(parseMeminfo(text)).toEqual({ totalBytes: 996160 * 1024, availableBytes: 829440 * 1024 });
    expect(() => parseMeminfo('MemTotal: 1 kB\n')).toThrow(/no MemAvailable/);
  });
});
