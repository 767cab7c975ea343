// Pure: the kernel twin (`twin up --kernel`, docs/twin.md): the same Debian base as the container
// twin, booted as a QEMU guest under software emulation with Debian's cloud kernel, 1 GB of RAM
// and a 10 GB disk, so what only a kernel of its own shows (sysctl, auditd, modules, swap, a real
// /proc/meminfo and OOM killer) can be converged and read back. Its ports, inventory, GCS
// emulator and metadata server are the container twin's; only the machine differs.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { BASE_RECIPE, execIn, type Step, type TwinConfig } from '../plan.ts';

/** Added to the base for a machine that boots itself. Changing this rebuilds the disk. */
export const KERNEL_RECIPE = {
  packages: ['linux-image-cloud-amd64', 'initramfs-tools', 'e2fsprogs', 'qemu-guest-agent'],
  diskSize: '10G',
  memoryMiB: 1024,
  cpus: 2,
} as const;

/** Files of one kernel twin: the cached disk (per recipe) and this twin's own run state. */
export interface KernelPaths {
  /** Cached: vmlinuz, initrd.img and disk.qcow2 of one recipe. */
  imageDir: string;
  /** This twin's: its copy-on-write disk, agent socket, pid file and serial console log. */
  runDir: string;
  overlay: string;
  socket: string;
  pidFile: string;
  console: string;
}

export function kernelPaths(
  cfg: Pick<TwinConfig, 'kernelDir' | 'qgaSocket' | 'recipeHash' | 'cacheDir'>,
): KernelPaths {
  const runDir = cfg.kernelDir;
  // The base's recipe and this one: a change to either builds a new disk.
  const hash = createHash('sha256')
    .update(cfg.recipeHash)
    .update(JSON.stringify(KERNEL_RECIPE))
    .digest('hex');
  return {
    imageDir: join(cfg.cacheDir, `kernel-${hash.slice(0, 12)}`),
    runDir,
    overlay: join(runDir, 'disk.qcow2'),
    socket: cfg.qgaSocket,
    pidFile: join(runDir, 'qemu.pid'),
    console: join(runDir, 'console.log'),
  };
}

/** A unix socket's path must fit in sun_path (108 bytes with its NUL). */
export function checkSocketPath(path: string): string | undefined {
  return Buffer.byteLength(path) > 100
    ? `the guest agent socket path ${path} is longer than 100 bytes: clone the project to a shorter path`
    : undefined;
}

/** Build the cached disk in `buildDir` (fresh, empty), then move it into place whole. */
export function buildKernelSteps(
  cfg: TwinConfig,
  paths: KernelPaths,
  buildDir: string,
  provision: string,
): Step[] {
  const rootfs = join(buildDir, 'rootfs');
  const out = join(buildDir, 'image');
  const raw = join(buildDir, 'disk.raw');
  const packages = [...BASE_RECIPE.packages, ...KERNEL_RECIPE.packages];
  return [
    { kind: 'run', title: 'create the package cache', argv: ['mkdir', '-p', cfg.debCacheDir, out] },
    {
      kind: 'run',
      title: `debootstrap ${BASE_RECIPE.suite} (${BASE_RECIPE.variant} + ${packages.length} packages, the cloud kernel among them)`,
      argv: [
        'debootstrap',
        `--variant=${BASE_RECIPE.variant}`,
        `--cache-dir=${cfg.debCacheDir}`,
        `--include=${packages.join(',')}`,
        BASE_RECIPE.suite,
        rootfs,
        BASE_RECIPE.mirror,
      ],
    },
    {
      kind: 'run',
      title: 'provision the base for a machine of its own (fstab, network, guest agent)',
      argv: ['chroot', rootfs, 'env', 'E2M_TWIN_KIND=kernel', 'sh', '-s'],
      input: provision,
    },
    {
      kind: 'run',
      title: 'take out the kernel and its initramfs',
      argv: [
        'sh',
        '-c',
        'set -e; cp "$1"/boot/vmlinuz-* "$2/vmlinuz"; cp "$1"/boot/initrd.img-* "$2/initrd.img"',
        'sh',
        rootfs,
        out,
      ],
    },
    {
      kind: 'run',
      title: `make a ${KERNEL_RECIPE.diskSize} disk`,
      argv: ['truncate', '-s', KERNEL_RECIPE.diskSize, raw],
    },
    {
      kind: 'run',
      title: 'write the root filesystem onto it (ext4)',
      argv: ['mkfs.ext4', '-q', '-F', '-L', 'e2m-root', '-d', rootfs, raw],
    },
    {
      kind: 'run',
      title: 'compact it (qcow2)',
      argv: ['qemu-img', 'convert', '-O', 'qcow2', raw, join(out, 'disk.qcow2')],
    },
    { kind: 'run', title: `keep it as ${paths.imageDir}`, argv: ['mv', '-T', out, paths.imageDir] },
    { kind: 'run', title: 'remove the build directory', argv: ['rm', '-rf', buildDir] },
  ];
}

/** A guest other than the twin (bench/cgroup-v2.ts: a laptop stand-in) may differ in these. */
export interface GuestShape {
  memoryMiB: number;
  /** Publish the twin's ports on this machine's loopback. */
  forwardPorts: boolean;
  /** More disks, read-only (virtio: /dev/vdb, ...). */
  extraDisks: string[];
}

const TWIN_SHAPE: GuestShape = { memoryMiB: KERNEL_RECIPE.memoryMiB, forwardPorts: true, extraDisks: [] };

/** QEMU under TCG: KVM does not work on these machines (docs/twin.md). */
export function qemuArgv(cfg: TwinConfig, paths: KernelPaths, shape: GuestShape = TWIN_SHAPE): string[] {
  const fwd = (port: number, inner: number) => `hostfwd=tcp:127.0.0.1:${port}-:${inner}`;
  const forwards = shape.forwardPorts
    ? `,${fwd(cfg.ports.ssh, 22)},${fwd(cfg.ports.http, 80)},${fwd(cfg.ports.https, 443)}`
    : '';
  return [
    'qemu-system-x86_64',
    '-name',
    `${cfg.container},process=${cfg.container}`,
    '-accel',
    'tcg,thread=multi',
    // `max` under TCG emulates AVX2, which Bun's default build needs.
    '-cpu',
    'max',
    '-m',
    String(shape.memoryMiB),
    '-smp',
    String(KERNEL_RECIPE.cpus),
    '-kernel',
    join(paths.imageDir, 'vmlinuz'),
    '-initrd',
    join(paths.imageDir, 'initrd.img'),
    '-append',
    'root=/dev/vda rw console=ttyS0 quiet',
    '-drive',
    `file=${paths.overlay},if=virtio,format=qcow2,discard=unmap`,
    ...shape.extraDisks.flatMap((disk) => ['-drive', `file=${disk},if=virtio,format=raw,readonly=on`]),
    '-netdev',
    `user,id=net0,hostname=${cfg.hostname}${forwards}`,
    '-device',
    'virtio-net-pci,netdev=net0',
    '-device',
    'virtio-rng-pci',
    '-chardev',
    `socket,id=qga0,path=${paths.socket},server=on,wait=off`,
    '-device',
    'virtio-serial',
    '-device',
    'virtserialport,chardev=qga0,name=org.qemu.guest_agent.0',
    '-serial',
    `file:${paths.console}`,
    '-display',
    'none',
    '-daemonize',
    '-pidfile',
    paths.pidFile,
  ];
}

/** Everything `up --kernel` runs before the guest answers: run directory, its disk, QEMU. */
export function bootSteps(cfg: TwinConfig, paths: KernelPaths, shape: GuestShape = TWIN_SHAPE): Step[] {
  return [
    { kind: 'run', title: `create ${paths.runDir}`, argv: ['mkdir', '-p', '-m', '0700', paths.runDir] },
    {
      kind: 'run',
      title: 'a fresh copy-on-write disk over the cached one',
      argv: [
        'qemu-img',
        'create',
        '-q',
        '-f',
        'qcow2',
        '-F',
        'qcow2',
        '-b',
        join(paths.imageDir, 'disk.qcow2'),
        paths.overlay,
      ],
    },
    {
      kind: 'run',
      title: `boot QEMU (TCG, ${shape.memoryMiB} MiB, ${KERNEL_RECIPE.cpus} vCPUs, Debian cloud kernel)`,
      argv: qemuArgv(cfg, paths, shape),
    },
    {
      kind: 'writeFile',
      title: 'record its ports',
      path: join(paths.runDir, 'ports.json'),
      content: `${JSON.stringify(cfg.ports)}\n`,
      mode: 0o600,
    },
  ];
}

export function downKernelSteps(paths: KernelPaths, pid: number | undefined): Step[] {
  return [
    ...(pid === undefined
      ? []
      : [
          { kind: 'run' as const, title: `stop QEMU (pid ${pid})`, argv: ['kill', String(pid)] },
          {
            kind: 'wait' as const,
            title: 'wait for it to exit (its ports free again)',
            argv: ['test', '!', '-e', `/proc/${pid}`],
            timeoutMs: 30_000,
            intervalMs: 100,
          },
        ]),
    { kind: 'run', title: `remove ${paths.runDir}`, argv: ['rm', '-rf', paths.runDir] },
  ];
}

/** The first sign of life: the guest agent answers (it starts late in the guest's boot). */
export function agentReadyStep(cfg: TwinConfig): Step {
  return {
    kind: 'wait',
    title: 'wait for the guest to boot (its QEMU guest agent answers)',
    // Each try gives up after 5 s: until the agent runs, nothing answers at all.
    argv: execIn(cfg, ['true'], false, 5),
    timeoutMs: 300_000,
    intervalMs: 1000,
  };
}

/** Used memory as the guest's own kernel counts it: MemTotal - MemAvailable (/proc/meminfo). */
export function parseMeminfo(text: string): { totalBytes: number; availableBytes: number } {
  const kib = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text);
    if (!m) throw new Error(`no ${key} in /proc/meminfo`);
    return Number(m[1]) * 1024;
  };
  return { totalBytes: kib('MemTotal'), availableBytes: kib('MemAvailable') };
}
