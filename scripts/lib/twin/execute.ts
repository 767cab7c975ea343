// The twin's I/O: reads the state of Docker and the host, runs plan.ts's steps through a Runner,
// and reports progress with timings. Each operation returns the exit code the CLI should use.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Handlers, poll, realClock, runPlan } from '../plan/run.ts';
import type { Runner } from '../runner.ts';
import {
  agentReadyStep,
  bootSteps,
  buildKernelSteps,
  checkSocketPath,
  downKernelSteps,
  KERNEL_RECIPE,
  kernelPaths,
  parseMeminfo,
} from './kernel/plan.ts';
import { hostKeyArgv, metadataSteps, metadataTree } from './metadata/plan.ts';
import {
  afterStartSteps,
  appCpusOf,
  buildBaseSteps,
  buildGcsImageSteps,
  createBucketSteps,
  type DockerState,
  downSteps,
  execIn,
  inventoryYaml,
  isDown,
  isUp,
  KERNEL_TOOLS,
  kernelDirFor,
  missingToolMessage,
  PORT_ENV,
  type Ports,
  REQUIRED_TOOLS,
  renderStartupScript,
  resolveConfig,
  type Step,
  sshReadySteps,
  type TwinConfig,
  twinCgroup,
  upSteps,
} from './plan.ts';

export const PROVISION_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'base', 'provision.sh');
const METADATA_SERVER = join(dirname(fileURLToPath(import.meta.url)), 'metadata', 'server.py');

export class TwinError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TwinError';
  }
}

export interface Progress {
  info(message: string): void;
  start(title: string): void;
  done(title: string, ms: number): void;
  fail(title: string, ms: number): void;
}

export const consoleProgress = (write: (s: string) => void = (s) => process.stderr.write(s)): Progress => ({
  info: (m) => write(`${m}\n`),
  start: (t) => write(`==> ${t}\n`),
  done: (t, ms) => write(`<== ${t}: ok in ${(ms / 1000).toFixed(1)}s\n`),
  fail: (t, ms) => write(`<== ${t}: FAILED after ${(ms / 1000).toFixed(1)}s\n`),
});

/** A handler per step kind, for the one plan executor (plan/run.ts). */
function handlers(runner: Runner): Handlers<Step> {
  return {
    run: async (step) => {
      await runner.run(step.argv, { input: step.input });
    },
    wait: (step) =>
      poll(
        step,
        realClock,
        async () => {
          const r = await runner.run(step.argv, { check: false });
          const out = r.stdout.trim();
          if (r.code === 0 && (step.expect === undefined || out === step.expect)) return undefined;
          if (step.failOn?.includes(out)) throw new TwinError(`${step.title}: got "${out}"`);
          return `exit ${r.code} ${(out || r.stderr.trim()).slice(0, 300)}`;
        },
        (last) => new TwinError(`${step.title}: not ready after ${step.timeoutMs / 1000}s (last: ${last})`),
      ),
    writeFile: async (step) => {
      await mkdir(dirname(step.path), { recursive: true });
      await writeFile(step.path, step.content, { mode: step.mode });
    },
    removeFile: (step) => rm(step.path, { force: true }),
  };
}

/** Runs the steps in order; the first failure is thrown as the step threw it. */
export async function runSteps(runner: Runner, steps: Step[], progress: Progress): Promise<void> {
  const result = await runPlan({ steps }, handlers(runner), {
    onEvent: (e) => {
      if (e.type === 'start') progress.start(e.step.title);
      else if (e.type === 'done') progress.done(e.step.title, e.ms);
      else progress.fail(e.step.title, e.ms);
    },
  });
  if (result.failed) throw result.failed.error;
}

export const runStep = (runner: Runner, step: Step, progress: Progress) => runSteps(runner, [step], progress);

/** Config from the real environment: reads the recipe and hashes the emulator binary. */
export function loadConfig(
  root: string,
  env: Record<string, string | undefined>,
  flags: ConfigFlags,
): TwinConfig {
  const cache = env.E2M_CACHE || join(env.HOME ?? '/root', '.cache', 'e2-micro');
  const gcsBinary = env.E2M_FAKE_GCS_BIN || join(env.GOBIN || join(cache, 'go', 'bin'), 'fake-gcs-server');
  const gcsTag = existsSync(gcsBinary)
    ? createHash('sha256').update(readFileSync(gcsBinary)).digest('hex').slice(0, 12)
    : 'missing';
  const provisionScript = readFileSync(PROVISION_SCRIPT, 'utf8');
  return resolveConfig({
    root,
    env,
    flags,
    provisionScript,
    gcsBinary,
    gcsTag,
    cacheDir: join(cache, 'twin'),
    nodeBin: process.execPath,
    // The kernel twin when asked for, or when one is running: down, status and ssh follow it.
    machine:
      flags.kernel || existsSync(kernelDirFor(root, env.E2M_TWIN_INSTANCE ?? '')) ? 'kernel' : 'container',
  });
}

export type ConfigFlags = Partial<Record<`${keyof Ports}-port`, string | number>> & {
  cpu?: string;
  kernel?: boolean;
};

async function containerState(runner: Runner, name: string): Promise<'running' | 'stopped' | 'absent'> {
  const r = await runner.run(['docker', 'container', 'inspect', '--format', '{{.State.Running}}', name], {
    check: false,
  });
  if (r.code !== 0) return 'absent';
  return r.stdout.trim() === 'true' ? 'running' : 'stopped';
}

/** The kernel twin's QEMU: its pid while that process is a QEMU of ours, else undefined. */
export function qemuPid(cfg: TwinConfig): number | undefined {
  const { pidFile } = kernelPaths(cfg);
  const pid = Number(existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : 0);
  if (!(pid > 0) || !existsSync(`/proc/${pid}/cmdline`)) return undefined;
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('qemu-system') ? pid : undefined;
}

export async function readState(runner: Runner, cfg: TwinConfig): Promise<DockerState> {
  const ok = async (argv: string[]) => (await runner.run(argv, { check: false })).code === 0;
  const kernel = cfg.machine === 'kernel' ? kernelPaths(cfg) : undefined;
  return {
    baseImage: kernel
      ? existsSync(join(kernel.imageDir, 'disk.qcow2'))
      : await ok(['docker', 'image', 'inspect', cfg.baseImage]),
    gcsImage: await ok(['docker', 'image', 'inspect', cfg.gcsImage]),
    network: await ok(['docker', 'network', 'inspect', cfg.network]),
    twin: kernel
      ? qemuPid(cfg) !== undefined
        ? 'running'
        : existsSync(kernel.runDir)
          ? 'stopped'
          : 'absent'
      : await containerState(runner, cfg.container),
    gcs: await containerState(runner, cfg.gcsContainer),
    keyFile: existsSync(cfg.keyFile) && existsSync(`${cfg.keyFile}.pub`),
  };
}

/** The image the twin container runs, or undefined when there is no container. */
async function twinImage(runner: Runner, cfg: TwinConfig): Promise<string | undefined> {
  const r = await runner.run(
    ['docker', 'container', 'inspect', '--format', '{{.Config.Image}}', cfg.container],
    { check: false },
  );
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/**
 * A running twin takes its CPU profile live (`docker update --cpus`): the benchmarks measure the
 * same converged twin at both profiles. Returns what changed, if anything.
 *
 * The app colours inside are capped too (`appCpusOf`), and the inventory says so for the next
 * deploy: cgroup v1 refuses a parent's CPU quota below a child's, so going down the colours
 * come down first, and going up the twin goes first.
 */
async function applyCpuProfile(runner: Runner, cfg: TwinConfig, ports: Ports): Promise<string | undefined> {
  const r = await runner.run(
    ['docker', 'container', 'inspect', '--format', '{{.HostConfig.NanoCpus}}', cfg.container],
    { check: false },
  );
  const now = Number(r.stdout.trim()) / 1e9;
  if (r.code !== 0 || now === cfg.cpus) return undefined;
  const colours = (
    await runner.capture(execIn(cfg, ['docker', 'ps', '--all', '--quiet', '--filter', 'label=e2m.app']))
  )
    .split('\n')
    .filter(Boolean);
  const twin = ['docker', 'update', '--cpus', String(cfg.cpus), cfg.container];
  const apps = execIn(cfg, ['docker', 'update', '--cpus', String(appCpusOf(cfg)), ...colours]);
  const lowering = now === 0 || cfg.cpus < now;
  for (const argv of lowering ? [apps, twin] : [twin, apps])
    if (argv !== apps || colours.length) await runner.run(argv);
  await mkdir(dirname(cfg.inventoryFile), { recursive: true });
  await writeFile(cfg.inventoryFile, inventoryYaml({ ...cfg, ports }));
  return `CPU profile now ${cfg.cpuProfile} (${cfg.cpus} CPUs; app colours ${appCpusOf(cfg)}, ${cfg.inventoryFile} updated)`;
}

const STALE = 'its base image is older than the current recipe: `npm run twin -- reset` for a fresh one';

/** Ports a running twin was started with (its label), so status/ssh follow it, not the flags. */
export async function runningPorts(runner: Runner, cfg: TwinConfig): Promise<Ports> {
  if (cfg.machine === 'kernel') {
    const file = join(kernelPaths(cfg).runDir, 'ports.json');
    return existsSync(file) ? { ...cfg.ports, ...JSON.parse(readFileSync(file, 'utf8')) } : cfg.ports;
  }
  const r = await runner.run(
    [
      'docker',
      'container',
      'inspect',
      '--format',
      '{{index .Config.Labels "e2m.twin.ports"}}',
      cfg.container,
    ],
    { check: false },
  );
  if (r.code !== 0 || !r.stdout.trim().startsWith('{')) return cfg.ports;
  return { ...cfg.ports, ...JSON.parse(r.stdout.trim()) };
}

export async function which(tool: string): Promise<boolean> {
  const path = process.env.PATH ?? '';
  return path.split(':').some((d) => d && existsSync(join(d, tool)));
}

async function checkTools(runner: Runner, tools: string[]): Promise<void> {
  for (const tool of tools) if (!(await which(tool))) throw new TwinError(missingToolMessage(tool));
  const info = await runner.run(['docker', 'info', '--format', '{{.ServerVersion}}'], { check: false });
  if (info.code !== 0)
    throw new TwinError(
      `the Docker engine does not answer (docker info failed): start it, e.g. bash .ci/install.d/45-docker.sh\n${info.stderr.trim()}`,
    );
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function checkPorts(ports: Partial<Ports>): Promise<void> {
  for (const [key, port] of Object.entries(ports) as [keyof Ports, number][]) {
    if (!(await portFree(port))) {
      throw new TwinError(
        `port ${port} on 127.0.0.1 (${key}) is already in use: free it or choose another with --${key}-port or ${PORT_ENV[key]}`,
      );
    }
  }
}

async function timed<T>(progress: Progress, title: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  progress.start(title);
  try {
    const v = await fn();
    progress.done(title, Date.now() - t0);
    return v;
  } catch (e) {
    progress.fail(title, Date.now() - t0);
    throw e;
  }
}

/**
 * One mutating twin command at a time on this machine (atomic mkdir). A lock left by a process
 * that no longer exists is taken over.
 */
export async function withLock<T>(cfg: TwinConfig, fn: () => Promise<T>): Promise<T> {
  const dir = join(cfg.stateDir, 'lock');
  await mkdir(cfg.stateDir, { recursive: true, mode: 0o700 });
  try {
    await mkdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const pid = Number(await readFile(join(dir, 'pid'), 'utf8').catch(() => '0'));
    let alive = false;
    try {
      alive = pid > 0 && process.kill(pid, 0);
    } catch {}
    if (alive)
      throw new TwinError(`another twin command (pid ${pid}) is running; wait for it (lock: ${dir})`);
  }
  await writeFile(join(dir, 'pid'), String(process.pid));
  try {
    return await fn();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The steps that build the base in `dir`: the container's image, or the kernel twin's disk. */
function baseSteps(cfg: TwinConfig, dir: string): Step[] {
  const provisionScript = readFileSync(PROVISION_SCRIPT, 'utf8');
  return cfg.machine === 'kernel'
    ? buildKernelSteps(cfg, kernelPaths(cfg), dir, provisionScript)
    : buildBaseSteps(cfg, dir, provisionScript);
}

/** Builds the base (the container's image, or the kernel twin's disk) from Debian packages. */
export async function buildBase(runner: Runner, cfg: TwinConfig, progress: Progress): Promise<void> {
  const kernel = cfg.machine === 'kernel' ? kernelPaths(cfg) : undefined;
  progress.info(
    kernel
      ? `kernel twin disk ${kernel.imageDir} not cached: building it from Debian packages (about 2 minutes)`
      : `base image ${cfg.baseImage} not cached: building it from Debian packages (about 1-2 minutes)`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'e2m-twin-base-'));
  await runSteps(runner, baseSteps(cfg, dir), progress);
}

export async function up(
  runner: Runner,
  cfg: TwinConfig,
  progress: Progress,
  opts: { dryRun?: boolean } = {},
): Promise<number> {
  const t0 = Date.now();
  const kernel = cfg.machine === 'kernel' ? kernelPaths(cfg) : undefined;
  await checkTools(runner, [...Object.keys(REQUIRED_TOOLS), ...(kernel ? Object.keys(KERNEL_TOOLS) : [])]);
  if (kernel && cfg.cpuProfile !== 'full')
    throw new TwinError(
      `--cpu ${cfg.cpuProfile} is for the container twin; the kernel twin has 2 emulated vCPUs`,
    );
  const socketProblem = kernel && checkSocketPath(kernel.socket);
  if (socketProblem) throw new TwinError(socketProblem);
  const state = await readState(runner, cfg);
  if (kernel && (await containerState(runner, cfg.container)) !== 'absent')
    throw new TwinError(`the container twin ${cfg.container} exists: \`npm run twin -- down\` first`);
  if (kernel && state.twin === 'stopped')
    throw new TwinError(
      `a kernel twin's run directory ${kernel.runDir} is left without its QEMU: \`npm run twin -- down\` first`,
    );
  if (isUp(state)) {
    const ports = await runningPorts(runner, cfg);
    const cpu = opts.dryRun || kernel ? undefined : await applyCpuProfile(runner, cfg, ports);
    progress.info(
      `twin is already up (ssh 127.0.0.1:${ports.ssh}, gcs 127.0.0.1:${ports.gcs}); ${cpu ?? 'nothing changed'}`,
    );
    const image = kernel ? undefined : await twinImage(runner, cfg);
    if (image && image !== cfg.baseImage) progress.info(`note: ${STALE}`);
    return 0;
  }
  const toBind: Partial<Ports> = {};
  if (state.twin === 'absent')
    Object.assign(toBind, { ssh: cfg.ports.ssh, http: cfg.ports.http, https: cfg.ports.https });
  if (state.gcs === 'absent') toBind.gcs = cfg.ports.gcs;
  await checkPorts(toBind);

  const preSteps: Step[] = [];
  if (!state.baseImage) preSteps.push(...baseSteps(cfg, join(tmpdir(), 'e2m-twin-base-XXXX')));
  if (!state.gcsImage) {
    if (!existsSync(cfg.gcsBinary))
      throw new TwinError(
        `fake-gcs-server not found at ${cfg.gcsBinary}: install it with bash .ci/install.d/40-twin.sh`,
      );
    preSteps.push(...buildGcsImageSteps(cfg, join(tmpdir(), 'e2m-twin-gcs-XXXX')));
  }
  if (opts.dryRun) {
    for (const s of [...preSteps, ...upSteps(cfg, state), ...(kernel ? bootSteps(cfg, kernel) : [])])
      progress.info(`${s.title}${'argv' in s ? `\n    ${s.argv.join(' ')}` : ''}`);
    progress.info(
      '(dry run: then the docker.service drop-in, the metadata server, the guest agent (the admin user, its key, the host keys) and the startup script; then wait for sshd, create buckets, write inventory/twin.yml)',
    );
    return 0;
  }
  if (!state.baseImage) await buildBase(runner, cfg, progress);
  if (!state.gcsImage) {
    const dir = await mkdtemp(join(tmpdir(), 'e2m-twin-gcs-'));
    await runSteps(runner, buildGcsImageSteps(cfg, dir), progress);
  }
  await runSteps(runner, upSteps(cfg, state), progress);
  if (kernel) await runSteps(runner, [...bootSteps(cfg, kernel), agentReadyStep(cfg)], progress);

  const cgroup = kernel
    ? undefined
    : twinCgroup(await runner.capture(execIn(cfg, ['cat', '/proc/1/cgroup'])));
  const publicKey = readFileSync(`${cfg.keyFile}.pub`, 'utf8');
  const startup = renderStartupScript(readFileSync(join(cfg.root, 'terraform/startup.sh.tftpl'), 'utf8'), {
    admin_user: cfg.user,
  });
  const metadata = metadataSteps(
    cfg,
    readFileSync(METADATA_SERVER, 'utf8'),
    metadataTree(cfg, publicKey, startup),
  );
  await runSteps(runner, afterStartSteps(cfg, cgroup, metadata), progress);
  const listed = JSON.parse(
    await runner.capture([
      'curl',
      '-fsS',
      `http://127.0.0.1:${cfg.ports.gcs}/storage/v1/b?project=${cfg.projectId}`,
    ]),
  ) as { items?: { name: string }[] };
  await runSteps(
    runner,
    createBucketSteps(
      cfg,
      (listed.items ?? []).map((b) => b.name),
    ),
    progress,
  );
  // Pinned from what the guest agent published, as the GCP inventory pins a VM's (host-keys.ts).
  const hostKey = `ssh-ed25519 ${await runner.capture(hostKeyArgv(cfg))}`;
  await runSteps(runner, sshReadySteps(cfg, hostKey), progress);
  progress.info(
    `twin is up in ${((Date.now() - t0) / 1000).toFixed(1)}s: ssh ${cfg.user}@127.0.0.1 -p ${cfg.ports.ssh} (npm run twin -- ssh), ` +
      `http 127.0.0.1:${cfg.ports.http}, https 127.0.0.1:${cfg.ports.https}, gcs http://127.0.0.1:${cfg.ports.gcs}, ` +
      `${cgroup ? `cgroup v${cgroup.version} ${cgroup.path}` : `QEMU guest, ${KERNEL_RECIPE.memoryMiB} MiB, console log ${kernel?.console}`}, inventory ${cfg.inventoryFile}`,
  );
  return 0;
}

export async function down(
  runner: Runner,
  cfg: TwinConfig,
  progress: Progress,
  opts: { dryRun?: boolean } = {},
): Promise<number> {
  await checkTools(runner, ['docker']);
  const state = await readState(runner, cfg);
  const inventory = existsSync(cfg.inventoryFile);
  if (isDown(state) && !inventory) {
    progress.info('twin is already down; nothing changed');
    return 0;
  }
  const kernel = cfg.machine === 'kernel' ? kernelPaths(cfg) : undefined;
  const pid = kernel ? qemuPid(cfg) : undefined;
  const steps = [
    ...(kernel && state.twin !== 'absent' ? downKernelSteps(kernel, pid) : []),
    ...downSteps(cfg, kernel ? { ...state, twin: 'absent' } : state, inventory),
  ];
  if (opts.dryRun) {
    for (const s of steps) progress.info(`${s.title}${'argv' in s ? `\n    ${s.argv.join(' ')}` : ''}`);
    return 0;
  }
  await timed(progress, 'twin down', () => runSteps(runner, steps, progress));
  return 0;
}

export interface TwinStatus {
  state: 'up' | 'down' | 'partial';
  docker: DockerState;
  ports: Ports;
  /** The container twin's cgroup, or the kernel twin's own /proc/meminfo (total - available). */
  memory?: { usedBytes: number; limitBytes: number; source: string };
  systemd?: string;
  /** The twin runs a base image other than the current recipe's. */
  stale?: boolean;
}

export async function status(runner: Runner, cfg: TwinConfig): Promise<TwinStatus> {
  await checkTools(runner, ['docker']);
  const docker = await readState(runner, cfg);
  const state = isUp(docker) ? 'up' : isDown(docker) ? 'down' : 'partial';
  const ports = await runningPorts(runner, cfg);
  const result: TwinStatus = { state, docker, ports };
  if (cfg.machine === 'kernel') {
    if (docker.twin === 'running') {
      const run = (argv: string[]) => runner.run(execIn(cfg, argv), { check: false });
      result.systemd = (await run(['systemctl', 'is-system-running'])).stdout.trim();
      const mem = parseMeminfo((await run(['cat', '/proc/meminfo'])).stdout);
      result.memory = {
        usedBytes: mem.totalBytes - mem.availableBytes,
        limitBytes: mem.totalBytes,
        source: 'meminfo',
      };
    }
    return result;
  }
  const image = await twinImage(runner, cfg);
  if (image && image !== cfg.baseImage) result.stale = true;
  if (docker.twin === 'running') {
    result.systemd = (
      await runner.run(execIn(cfg, ['systemctl', 'is-system-running']), { check: false })
    ).stdout.trim();
    const cg = twinCgroup(await runner.capture(execIn(cfg, ['cat', '/proc/1/cgroup'])));
    const files =
      cg.version === 1
        ? ['memory/memory.usage_in_bytes', 'memory/memory.limit_in_bytes']
        : ['memory.current', 'memory.max'];
    const [used, limit] = await Promise.all(
      files.map((f) =>
        runner.capture(
          execIn(cfg, [
            'cat',
            `/sys/fs/cgroup/${cg.version === 1 ? f.replace('/', `${cg.path}/`) : `${cg.path.slice(1)}/${f}`}`,
          ]),
        ),
      ),
    );
    result.memory = { usedBytes: Number(used), limitBytes: Number(limit), source: `cgroup v${cg.version}` };
  }
  return result;
}

export function formatStatus(cfg: TwinConfig, s: TwinStatus): string {
  const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
  return [
    `twin: ${s.state}`,
    `  ${cfg.machine === 'kernel' ? `${cfg.container} (QEMU guest, kernel of its own)` : cfg.container}: ${s.docker.twin}${s.systemd ? ` (systemd: ${s.systemd})` : ''}`,
    `  ${cfg.gcsContainer}: ${s.docker.gcs}`,
    `  network ${cfg.network}: ${s.docker.network ? 'present' : 'absent'}`,
    cfg.machine === 'kernel'
      ? `  kernel twin disk ${kernelPaths(cfg).imageDir}: ${s.docker.baseImage ? 'cached' : 'not built'}`
      : `  base image ${cfg.baseImage}: ${s.docker.baseImage ? 'cached' : 'not built'}`,
    ...(s.stale ? [`  note: ${STALE}`] : []),
    `  ports (127.0.0.1): ssh ${s.ports.ssh}, http ${s.ports.http}, https ${s.ports.https}, gcs ${s.ports.gcs}`,
    ...(s.memory
      ? [`  memory (${s.memory.source}): ${mib(s.memory.usedBytes)} used of ${mib(s.memory.limitBytes)}`]
      : []),
  ].join('\n');
}
