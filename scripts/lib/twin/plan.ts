// The twin as data: configuration and the exact commands for each operation. No I/O, no clock,
// no environment: callers pass in what they read (env, state of Docker, container ids) and
// execute.ts runs the steps. Tests assert on the argv arrays produced here.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { type Inventory, inventoryText, VM_GROUP } from '../inventory.ts';

export const TWIN_COMMANDS = ['up', 'down', 'status', 'ssh', 'reset'] as const;
export type TwinCommand = (typeof TWIN_COMMANDS)[number];

/** The Debian base: everything that decides its content. Changing any of it rebuilds the base. */
export const BASE_RECIPE = {
  suite: 'bookworm',
  variant: 'minbase',
  mirror: 'http://deb.debian.org/debian',
  // What a fresh GCP debian-12 image has that Ansible and our scripts rely on; no Docker.
  packages: [
    'systemd',
    'systemd-sysv',
    'dbus',
    'openssh-server',
    'sudo',
    'python3',
    'python3-apt',
    'ca-certificates',
    'curl',
    'gnupg',
    'iproute2',
    'iputils-ping',
    'procps',
    'less',
    'netbase',
    'kmod',
    // Debian's own packages for its GCE images (GCP's images take newer builds of the same).
    'google-guest-agent',
    'google-compute-engine-oslogin',
  ],
} as const;

/** The admin user: in compute.tf's metadata ssh-keys, created from there by the guest agent. */
export const ADMIN_USER = 'ops';

export interface Ports {
  ssh: number;
  http: number;
  https: number;
  gcs: number;
}

export const DEFAULT_PORTS: Ports = { ssh: 2222, http: 8080, https: 8443, gcs: 4443 };
/** Flag and environment names for each port, e.g. --ssh-port / E2M_TWIN_SSH_PORT. */
export const PORT_ENV: Record<keyof Ports, string> = {
  ssh: 'E2M_TWIN_SSH_PORT',
  http: 'E2M_TWIN_HTTP_PORT',
  https: 'E2M_TWIN_HTTPS_PORT',
  gcs: 'E2M_TWIN_GCS_PORT',
};

export interface TwinConfig {
  root: string;
  stateDir: string;
  keyFile: string;
  knownHostsFile: string;
  inventoryFile: string;
  container: string;
  hostname: string;
  gcsContainer: string;
  network: string;
  dockerVolume: string;
  user: string;
  env: 'twin';
  projectId: string;
  buckets: { state: string; backups: string };
  ports: Ports;
  memory: string;
  cpuProfile: CpuProfile;
  cpus: number;
  baseImage: string;
  recipeHash: string;
  gcsImage: string;
  gcsBinary: string;
  /** Where debootstrap keeps downloaded .debs between base builds (outside the work tree). */
  debCacheDir: string;
  /** Image tag of the emulator: derived from the binary's hash, so a new binary makes a new image. */
  gcsTag: string;
  /** The machine: a systemd container (the default) or a QEMU guest with a kernel of its own. */
  machine: 'container' | 'kernel';
  /** Where built images are cached between runs (outside the work tree). */
  cacheDir: string;
  /** The kernel twin's run directory and guest agent socket (kernel/plan.ts), one per instance,
   * and the Node that speaks to the agent. */
  kernelDir: string;
  qgaSocket: string;
  nodeBin: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Hash of everything that decides the base image's content. */
export function recipeHash(provisionScript: string): string {
  return createHash('sha256')
    .update(JSON.stringify(BASE_RECIPE))
    .update('\0')
    .update(provisionScript)
    .digest('hex')
    .slice(0, 12);
}

function parsePort(value: string | number, name: string): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new ConfigError(`${name} must be a port number 1-65535 (got "${value}")`);
  return n;
}

/**
 * CPU profiles. An e2-micro sustains 0.25 of each of its 2 vCPUs (0.5 CPU) and bursts above it
 * for short periods; `e2-micro` holds the twin at the sustained share, so figures taken there are
 * what a VM that used up its burst would show. `full` is the host's two cores.
 */
export const CPU_PROFILES = { full: 2, 'e2-micro': 0.5 } as const;
export type CpuProfile = keyof typeof CPU_PROFILES;

/**
 * Each app colour's CPU cap on the twin (the inventory's `e2m_app_cpus`): the deploy's usual 1, or
 * the profile's share when that is lower. On a VM a cap above its whole share changes nothing; on
 * a cgroup v1 host a container's quota above its parent's (the twin's) is refused outright.
 */
export const appCpusOf = (cfg: Pick<TwinConfig, 'cpus'>): number => Math.min(1, cfg.cpus);

export function parseCpuProfile(value: string, name: string): CpuProfile {
  if (!Object.hasOwn(CPU_PROFILES, value))
    throw new ConfigError(`${name} must be ${Object.keys(CPU_PROFILES).join(' or ')} (got "${value}")`);
  return value as CpuProfile;
}

export interface ConfigInput {
  root: string;
  env: Record<string, string | undefined>;
  flags: Partial<Record<`${keyof Ports}-port`, string | number>> & { cpu?: string };
  provisionScript: string;
  gcsBinary: string;
  gcsTag: string;
  cacheDir: string;
  nodeBin: string;
  machine?: TwinConfig['machine'];
}

/** The kernel twin's run directory for an instance ('' for the default twin). */
export const kernelDirFor = (root: string, instance: string) =>
  join(root, '.twin', instance ? `kernel-${instance}` : 'kernel');

/** Flags win over environment variables, which win over defaults. */
export function resolveConfig(input: ConfigInput): TwinConfig {
  const ports = { ...DEFAULT_PORTS };
  for (const key of Object.keys(DEFAULT_PORTS) as (keyof Ports)[]) {
    const flag = input.flags[`${key}-port`];
    const fromEnv = input.env[PORT_ENV[key]];
    if (flag !== undefined) ports[key] = parsePort(flag, `--${key}-port`);
    else if (fromEnv !== undefined && fromEnv !== '') ports[key] = parsePort(fromEnv, PORT_ENV[key]);
  }
  const values = Object.values(ports);
  if (new Set(values).size !== values.length)
    throw new ConfigError(`ports must differ: ${JSON.stringify(ports)}`);
  const cpu =
    input.flags.cpu !== undefined
      ? parseCpuProfile(input.flags.cpu, '--cpu')
      : input.env.E2M_TWIN_CPU
        ? parseCpuProfile(input.env.E2M_TWIN_CPU, 'E2M_TWIN_CPU')
        : 'full';
  const instance = input.env.E2M_TWIN_INSTANCE ?? '';
  if (instance !== '' && !/^[a-z0-9][a-z0-9-]{0,19}$/.test(instance)) {
    throw new ConfigError(`E2M_TWIN_INSTANCE must be 1-20 of a-z, 0-9 and - (got "${instance}")`);
  }
  // A second twin on the same Docker engine (another checkout, a CI run) needs its own names.
  const name = instance ? `e2m-twin-${instance}` : 'e2m-twin';
  const hash = recipeHash(input.provisionScript);
  const stateDir = join(input.root, '.twin');
  const env = 'twin' as const;
  return {
    root: input.root,
    stateDir,
    keyFile: join(stateDir, 'id_ed25519'),
    knownHostsFile: join(stateDir, 'known_hosts'),
    inventoryFile: join(input.root, 'inventory', 'twin.yml'),
    container: name,
    hostname: 'e2m-twin',
    gcsContainer: `${name}-gcs`,
    network: `${name}-net`,
    dockerVolume: `${name}-docker`,
    user: ADMIN_USER,
    env,
    projectId: 'e2m-twin-local',
    buckets: { state: `e2m-${env}-tfstate`, backups: `e2m-${env}-backups` },
    ports,
    memory: '1g',
    cpuProfile: cpu,
    cpus: CPU_PROFILES[cpu],
    baseImage: `e2m-twin-base:${hash}`,
    recipeHash: hash,
    gcsImage: `e2m-fake-gcs:${input.gcsTag}`,
    gcsBinary: input.gcsBinary,
    gcsTag: input.gcsTag,
    debCacheDir: join(input.cacheDir, 'debs'),
    machine: input.machine ?? 'container',
    cacheDir: input.cacheDir,
    kernelDir: kernelDirFor(input.root, instance),
    qgaSocket: join(kernelDirFor(input.root, instance), 'qga.sock'),
    nodeBin: input.nodeBin,
  };
}

export type Step =
  | { kind: 'run'; title: string; argv: string[]; input?: string }
  /** Repeat argv until it exits 0 (and prints `expect`, when given); fail on `failOn` output or timeout. */
  | {
      kind: 'wait';
      title: string;
      argv: string[];
      expect?: string;
      failOn?: string[];
      timeoutMs: number;
      intervalMs: number;
    }
  | { kind: 'writeFile'; title: string; path: string; content: string; mode: number }
  | { kind: 'removeFile'; title: string; path: string };

/** Host tools `up` needs, with the Debian package that provides each. */
export const REQUIRED_TOOLS: Record<string, string> = {
  docker: 'docker.io',
  debootstrap: 'debootstrap',
  chroot: 'coreutils',
  tar: 'tar',
  'ssh-keygen': 'openssh-client',
  ssh: 'openssh-client',
  curl: 'curl',
};

/** What `up --kernel` needs beyond those (`bash .ci/install.sh kernel` installs them). */
export const KERNEL_TOOLS: Record<string, string> = {
  'qemu-system-x86_64': 'qemu-system-x86',
  'qemu-img': 'qemu-utils',
  'mkfs.ext4': 'e2fsprogs',
};

export function missingToolMessage(tool: string): string {
  const pkg = REQUIRED_TOOLS[tool] ?? KERNEL_TOOLS[tool] ?? tool;
  return `${tool} not found: install the Debian package ${pkg} (apt-get install ${pkg})`;
}

/** Build the base image from Debian packages in `buildDir` (a fresh empty directory). */
export function buildBaseSteps(cfg: TwinConfig, buildDir: string, provisionScript: string): Step[] {
  const rootfs = join(buildDir, 'rootfs');
  const tarball = join(buildDir, 'rootfs.tar');
  return [
    { kind: 'run', title: 'create the package cache', argv: ['mkdir', '-p', cfg.debCacheDir] },
    {
      kind: 'run',
      title: `debootstrap ${BASE_RECIPE.suite} (${BASE_RECIPE.variant} + ${BASE_RECIPE.packages.length} packages)`,
      argv: [
        'debootstrap',
        `--variant=${BASE_RECIPE.variant}`,
        `--cache-dir=${cfg.debCacheDir}`,
        `--include=${BASE_RECIPE.packages.join(',')}`,
        BASE_RECIPE.suite,
        rootfs,
        BASE_RECIPE.mirror,
      ],
    },
    {
      kind: 'run',
      title: 'provision the base (apt sources, sshd, units)',
      argv: ['chroot', rootfs, 'sh', '-s'],
      input: provisionScript,
    },
    {
      kind: 'run',
      title: 'pack the root filesystem',
      argv: ['tar', '--numeric-owner', '-C', rootfs, '-cf', tarball, '.'],
    },
    {
      kind: 'run',
      title: `import ${cfg.baseImage}`,
      argv: [
        'docker',
        'import',
        '--change',
        'CMD ["/lib/systemd/systemd"]',
        '--change',
        'ENV container=docker',
        '--change',
        `LABEL e2m.twin.recipe=${cfg.recipeHash}`,
        tarball,
        cfg.baseImage,
      ],
    },
    { kind: 'run', title: 'remove the build directory', argv: ['rm', '-rf', buildDir] },
  ];
}

/** The emulator image: the statically linked fake-gcs-server binary and nothing else. */
export function buildGcsImageSteps(cfg: TwinConfig, buildDir: string): Step[] {
  const tarball = join(buildDir, 'gcs.tar');
  return [
    {
      kind: 'run',
      title: 'stage fake-gcs-server',
      argv: ['install', '-D', '-m', '0755', cfg.gcsBinary, join(buildDir, 'root', 'fake-gcs-server')],
    },
    {
      kind: 'run',
      title: 'pack fake-gcs-server',
      argv: ['tar', '--numeric-owner', '-C', join(buildDir, 'root'), '-cf', tarball, '.'],
    },
    {
      kind: 'run',
      title: `import ${cfg.gcsImage}`,
      argv: ['docker', 'import', '--change', 'ENTRYPOINT ["/fake-gcs-server"]', tarball, cfg.gcsImage],
    },
    { kind: 'run', title: 'remove the build directory', argv: ['rm', '-rf', buildDir] },
  ];
}

export interface DockerState {
  baseImage: boolean;
  gcsImage: boolean;
  network: boolean;
  twin: 'running' | 'stopped' | 'absent';
  gcs: 'running' | 'stopped' | 'absent';
  keyFile: boolean;
}

export function isUp(s: DockerState): boolean {
  return s.twin === 'running' && s.gcs === 'running';
}

export function isDown(s: DockerState): boolean {
  return s.twin === 'absent' && s.gcs === 'absent' && !s.network;
}

const loopback = (port: number, inner: number) => `127.0.0.1:${port}:${inner}`;

export function gcsRunArgv(cfg: TwinConfig): string[] {
  return [
    'docker',
    'run',
    '--detach',
    '--name',
    cfg.gcsContainer,
    '--network',
    cfg.network,
    '--publish',
    loopback(cfg.ports.gcs, 4443),
    '--memory',
    '256m',
    '--label',
    'e2m.twin=gcs',
    cfg.gcsImage,
    '-scheme',
    'http',
    '-host',
    '0.0.0.0',
    '-port',
    '4443',
    '-backend',
    'memory',
    '-public-host',
    `${cfg.gcsContainer}:4443`,
    '-external-url',
    `http://${cfg.gcsContainer}:4443`,
  ];
}

/** The twin container: systemd as PID 1 inside a 1 GB / 2 CPU / no-swap cgroup (ENVIRONMENT.md recipe). */
export function twinRunArgv(cfg: TwinConfig): string[] {
  return [
    'docker',
    'run',
    '--detach',
    '--name',
    cfg.container,
    '--hostname',
    cfg.hostname,
    '--network',
    cfg.network,
    '--memory',
    cfg.memory,
    '--memory-swap',
    cfg.memory,
    '--cpus',
    String(cfg.cpus),
    // --privileged fails here (SYS_RESOURCE is outside the bounding set): everything but that.
    '--cap-add',
    'ALL',
    '--cap-drop',
    'SYS_RESOURCE',
    '--security-opt',
    'seccomp=unconfined',
    '--security-opt',
    'apparmor=unconfined',
    '--cgroupns',
    'host',
    '--volume',
    '/sys/fs/cgroup:/sys/fs/cgroup:rw',
    '--tmpfs',
    '/run',
    '--tmpfs',
    '/run/lock',
    // Docker inside needs a real filesystem under it (overlay on overlay does not work).
    '--volume',
    `${cfg.dockerVolume}:/var/lib/docker`,
    '--stop-signal',
    'SIGRTMIN+3',
    '--publish',
    loopback(cfg.ports.ssh, 22),
    '--publish',
    loopback(cfg.ports.http, 80),
    '--publish',
    loopback(cfg.ports.https, 443),
    '--label',
    'e2m.twin=vm',
    '--label',
    `e2m.twin.ports=${JSON.stringify(cfg.ports)}`,
    cfg.baseImage,
    '/lib/systemd/systemd',
  ];
}

/** Everything `up` does before the twin has an id: images, key, network, emulator, container. */
export function upSteps(cfg: TwinConfig, state: DockerState): Step[] {
  const steps: Step[] = [];
  if (!state.keyFile) {
    steps.push({
      kind: 'run',
      title: 'create the .twin directory',
      argv: ['mkdir', '-p', '-m', '0700', cfg.stateDir],
    });
    steps.push({
      kind: 'run',
      title: 'generate the admin SSH key (ed25519)',
      argv: [
        'ssh-keygen',
        '-q',
        '-t',
        'ed25519',
        '-N',
        '',
        '-C',
        `${cfg.user}@${cfg.hostname}`,
        '-f',
        cfg.keyFile,
      ],
    });
  }
  if (!state.network)
    steps.push({
      kind: 'run',
      title: `create network ${cfg.network}`,
      argv: ['docker', 'network', 'create', '--label', 'e2m.twin=net', cfg.network],
    });
  if (state.gcs === 'absent')
    steps.push({ kind: 'run', title: `start ${cfg.gcsContainer} (${cfg.gcsImage})`, argv: gcsRunArgv(cfg) });
  else if (state.gcs === 'stopped')
    steps.push({
      kind: 'run',
      title: `start ${cfg.gcsContainer}`,
      argv: ['docker', 'start', cfg.gcsContainer],
    });
  if (cfg.machine === 'kernel') return steps; // the machine is QEMU's: kernel/plan.ts bootSteps
  if (state.twin === 'absent')
    steps.push({
      kind: 'run',
      title: `start ${cfg.container} (systemd, ${cfg.memory}, ${cfg.cpus} CPUs)`,
      argv: twinRunArgv(cfg),
    });
  else if (state.twin === 'stopped')
    steps.push({ kind: 'run', title: `start ${cfg.container}`, argv: ['docker', 'start', cfg.container] });
  return steps;
}

/**
 * The twin's own cgroup, from /proc/1/cgroup as seen inside it (host cgroup namespace).
 * cgroup v1: the memory controller's line; v2: the unified line. systemd moves itself into
 * init.scope, which is not the container's cgroup.
 */
export function twinCgroup(procCgroup: string): { version: 1 | 2; path: string } {
  const lines = procCgroup.trim().split('\n');
  const v1 = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  const line = v1 ?? lines.find((l) => l.startsWith('0::'));
  if (!line) throw new Error(`no memory or unified cgroup line in /proc/1/cgroup:\n${procCgroup}`);
  const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1).replace(/\/init\.scope$/, '');
  if (path === '/' || path === '')
    throw new Error('the twin is not in a cgroup of its own (is it running with --cgroupns=host?)');
  return { version: v1 ? 1 : 2, path };
}

export const DOCKER_DROPIN = '/etc/systemd/system/docker.service.d/10-e2m-twin-cgroup-parent.conf';

/**
 * A drop-in for the docker.service a playbook installs later: its containers go under the twin's
 * cgroup, so the twin's 1 GB covers them. A flag, not daemon.json, which the playbook owns. On
 * cgroup v2 dockerd picks the systemd driver, which takes only a slice as the parent (moby#40846):
 * the cgroupfs driver keeps the same path on both.
 */
export function dockerDropIn(cgroup: { version: 1 | 2; path: string }): string {
  const driver = cgroup.version === 2 ? ' --exec-opt native.cgroupdriver=cgroupfs' : '';
  return [
    '# Laid down by `twin up` (not part of a real VM): containers of this Docker engine are',
    "# created under the twin's own cgroup so the twin's 1 GB limit covers them too.",
    '[Service]',
    `Environment="E2M_TWIN_DOCKER_OPTS=--cgroup-parent=${cgroup.path}/inner${driver}"`,
    'ExecStart=',
    'ExecStart=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock $DOCKER_OPTS $E2M_TWIN_DOCKER_OPTS',
    '',
  ].join('\n');
}

/** A command as root on the twin's machine: `docker exec`, or the QEMU guest agent (kernel/qga.ts,
 * which gives up after `timeoutS`, 600 by default). */
export function execIn(cfg: TwinConfig, argv: string[], interactive = false, timeoutS?: number): string[] {
  if (cfg.machine === 'kernel') {
    const qga = join(cfg.root, 'scripts', 'lib', 'twin', 'kernel', 'qga.ts');
    const flags = [...(interactive ? ['--stdin'] : []), ...(timeoutS ? ['--timeout', String(timeoutS)] : [])];
    return [cfg.nodeBin, qga, cfg.qgaSocket, ...flags, '--', ...argv];
  }
  return ['docker', 'exec', ...(interactive ? ['--interactive'] : []), cfg.container, ...argv];
}

export function sshArgv(cfg: TwinConfig, command: string[] = [], extra: string[] = []): string[] {
  return [
    'ssh',
    '-i',
    cfg.keyFile,
    '-p',
    String(cfg.ports.ssh),
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${cfg.knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
    ...extra,
    `${cfg.user}@127.0.0.1`,
    ...command,
  ];
}

export function knownHostsLine(cfg: TwinConfig, hostPubKey: string): string {
  const [type, key] = hostPubKey.trim().split(/\s+/);
  if (!type || !key) throw new Error(`unexpected host key: ${hostPubKey}`);
  return `[127.0.0.1]:${cfg.ports.ssh} ${type} ${key}\n`;
}

const gcsHostUrl = (cfg: TwinConfig) => `http://127.0.0.1:${cfg.ports.gcs}`;

/**
 * Pure: terraform/startup.sh.tftpl as Terraform's templatefile renders it for the twin. Only the
 * variables compute.tf passes are known; any other interpolation or directive is refused, so a
 * template that grows cannot silently run half-rendered.
 */
export function renderStartupScript(template: string, vars: Record<string, string>): string {
  const out = template.replace(/\$\{(\w+)\}/g, (_whole, name: string) => {
    if (!(name in vars)) throw new Error(`terraform/startup.sh.tftpl: unknown variable \${${name}}`);
    return vars[name];
  });
  const left = /\$\{|%\{/.exec(out);
  if (left)
    throw new Error(`terraform/startup.sh.tftpl: template syntax the twin cannot render: ${left[0]}…`);
  return out;
}

/** After the machine exists: the docker drop-in (a container twin's, under its `cgroup`), then
 * wait until it has booted, then `metadata` (metadata/plan.ts: GCP's metadata server, and the
 * guest agent's and the script runner's work read from it), then the GCS emulator. */
export function afterStartSteps(
  cfg: TwinConfig,
  cgroup: { version: 1 | 2; path: string } | undefined,
  metadata: Step[],
): Step[] {
  const nest: Step[] =
    cgroup === undefined
      ? []
      : [
          {
            kind: 'run',
            title: `nest a future Docker engine under ${cgroup.path}`,
            argv: execIn(
              cfg,
              ['sh', '-c', `mkdir -p ${DOCKER_DROPIN.replace(/\/[^/]+$/, '')} && cat > ${DOCKER_DROPIN}`],
              true,
            ),
            input: dockerDropIn(cgroup),
          },
        ];
  return [
    ...nest,
    {
      kind: 'wait',
      title: 'wait for systemd to finish booting',
      argv: execIn(cfg, ['systemctl', 'is-system-running', '--wait']),
      expect: 'running',
      failOn: ['degraded', 'maintenance', 'stopping'],
      timeoutMs: 90_000,
      intervalMs: 500,
    },
    ...metadata,
    {
      kind: 'wait',
      title: `wait for fake-gcs-server on 127.0.0.1:${cfg.ports.gcs}`,
      argv: ['curl', '-fsS', '-o', '/dev/null', `${gcsHostUrl(cfg)}/storage/v1/b?project=${cfg.projectId}`],
      timeoutMs: 30_000,
      intervalMs: 250,
    },
  ];
}

export function createBucketSteps(cfg: TwinConfig, existing: string[]): Step[] {
  return [cfg.buckets.state, cfg.buckets.backups]
    .filter((b) => !existing.includes(b))
    .map((bucket) => ({
      kind: 'run' as const,
      title: `create bucket ${bucket}`,
      argv: [
        'curl',
        '-fsS',
        '-o',
        '/dev/null',
        '-X',
        'POST',
        '-H',
        'Content-Type: application/json',
        '--data',
        JSON.stringify({ name: bucket }),
        `${gcsHostUrl(cfg)}/storage/v1/b?project=${cfg.projectId}`,
      ],
    }));
}

export function sshReadySteps(cfg: TwinConfig, hostPubKey: string): Step[] {
  return [
    {
      kind: 'writeFile',
      title: 'record the twin host key in .twin/known_hosts',
      path: cfg.knownHostsFile,
      content: knownHostsLine(cfg, hostPubKey),
      mode: 0o600,
    },
    {
      kind: 'wait',
      title: `wait for sshd on 127.0.0.1:${cfg.ports.ssh}`,
      argv: sshArgv(cfg, ['true'], ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5']),
      timeoutMs: 60_000,
      intervalMs: 500,
    },
    {
      kind: 'writeFile',
      title: 'write inventory/twin.yml',
      path: cfg.inventoryFile,
      content: inventoryYaml(cfg),
      mode: 0o644,
    },
  ];
}

/** inventory/twin.yml: the contract of ../inventory.ts, as inventory/gcp.yml. */
export function inventoryYaml(cfg: TwinConfig): string {
  const inventory: Inventory = {
    all: {
      children: {
        [VM_GROUP]: {
          hosts: {
            twin: {
              ansible_host: '127.0.0.1',
              ansible_port: cfg.ports.ssh,
              ansible_user: cfg.user,
              ansible_ssh_private_key_file: cfg.keyFile,
              ansible_ssh_common_args: `-o UserKnownHostsFile=${cfg.knownHostsFile} -o StrictHostKeyChecking=yes`,
              ansible_python_interpreter: '/usr/bin/python3',
              e2m_known_hosts_file: cfg.knownHostsFile,
            },
          },
          vars: {
            e2m_env: cfg.env,
            e2m_domain: 'localhost',
            e2m_tls_mode: 'internal',
            e2m_project_id: cfg.projectId,
            e2m_state_bucket: cfg.buckets.state,
            e2m_backup_bucket: cfg.buckets.backups,
            // The kernel twin's guest reaches this machine's loopback at 10.0.2.2 (QEMU's user network).
            e2m_gcs_endpoint:
              cfg.machine === 'kernel'
                ? `http://10.0.2.2:${cfg.ports.gcs}`
                : `http://${cfg.gcsContainer}:4443`,
            e2m_gcs_host_endpoint: gcsHostUrl(cfg),
            e2m_gcs_auth: true,
            e2m_http_url: `http://127.0.0.1:${cfg.ports.http}`,
            e2m_https_url: `https://127.0.0.1:${cfg.ports.https}`,
            e2m_is_twin: true,
            e2m_app_cpus: appCpusOf(cfg),
            ...(cfg.machine === 'kernel' ? { e2m_twin_kernel: true } : {}),
          },
        },
      },
    },
  };
  return inventoryText(inventory, {
    header: 'Written by `npm run twin -- up`; removed by `twin down`. Same shape as inventory/gcp.yml.',
    comments: {
      e2m_gcs_endpoint:
        'GCS as seen from inside the VM (the emulator, by container name) and from this machine.',
      e2m_gcs_auth:
        "The VM's backup job takes a token from the twin's metadata server, as on GCP (the emulator accepts any).",
      e2m_http_url: "The app as seen from this machine (the twin's ports 80/443 are published on loopback).",
      e2m_is_twin: 'Twin-only: the container cannot do what a VM kernel does (see docs/twin.md).',
      e2m_app_cpus: "Each app colour's CPU cap, kept within the twin's CPU profile (`twin up --cpu`).",
      e2m_twin_kernel: 'A QEMU guest with a kernel of its own (`twin up --kernel`): kernel settings apply.',
    },
  });
}

export function downSteps(cfg: TwinConfig, state: DockerState, inventoryExists: boolean): Step[] {
  const steps: Step[] = [];
  if (state.twin !== 'absent')
    steps.push({
      kind: 'run',
      title: `remove ${cfg.container}`,
      argv: ['docker', 'rm', '--force', '--volumes', cfg.container],
    });
  if (state.gcs !== 'absent')
    steps.push({
      kind: 'run',
      title: `remove ${cfg.gcsContainer}`,
      argv: ['docker', 'rm', '--force', cfg.gcsContainer],
    });
  if (state.network)
    steps.push({
      kind: 'run',
      title: `remove network ${cfg.network}`,
      argv: ['docker', 'network', 'rm', cfg.network],
    });
  if (steps.length > 0)
    steps.push({
      kind: 'run',
      title: `remove volume ${cfg.dockerVolume}`,
      argv: ['docker', 'volume', 'rm', '--force', cfg.dockerVolume],
    });
  if (inventoryExists)
    steps.push({ kind: 'removeFile', title: 'remove inventory/twin.yml', path: cfg.inventoryFile });
  return steps;
}
