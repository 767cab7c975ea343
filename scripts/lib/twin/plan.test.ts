import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { YAML } from 'zx';
import { twinInput } from '../../../test/support/twin-fixtures.ts';
import { toShell } from '../runner.ts';
import {
  afterStartSteps,
  BASE_RECIPE,
  buildBaseSteps,
  ConfigError,
  createBucketSteps,
  type DockerState,
  dockerDropIn,
  downSteps,
  gcsRunArgv,
  inventoryYaml,
  knownHostsLine,
  missingToolMessage,
  recipeHash,
  renderStartupScript,
  resolveConfig,
  type Step,
  sshArgv,
  twinCgroup,
  twinRunArgv,
  upSteps,
} from './plan.ts';

const input = twinInput;
const cfg = resolveConfig(input);
const shell = (steps: Step[]) => steps.flatMap((s) => ('argv' in s ? [toShell(s.argv)] : []));
const down: DockerState = {
  baseImage: true,
  gcsImage: true,
  network: false,
  twin: 'absent',
  gcs: 'absent',
  keyFile: true,
};

describe('resolveConfig', () => {
  it('defaults: names, loopback ports, 1 GB, 2 CPUs, buckets from the env', () => {
    expect(cfg).toMatchObject({
      container: 'e2m-twin',
      gcsContainer: 'e2m-twin-gcs',
      network: 'e2m-twin-net',
      ports: { ssh: 2222, http: 8080, https: 8443, gcs: 4443 },
      memory: '1g',
      cpus: 2,
      user: 'ops',
      buckets: { state: 'e2m-twin-tfstate', backups: 'e2m-twin-backups' },
      keyFile: '/repo/.twin/id_ed25519',
      inventoryFile: '/repo/inventory/twin.yml',
      gcsImage: 'e2m-fake-gcs:abc123',
    });
    expect(cfg.baseImage).toBe(`e2m-twin-base:${recipeHash('echo provision')}`);
  });

  it('takes a CPU profile from --cpu or E2M_TWIN_CPU, full by default, and names a bad one', () => {
    expect(resolveConfig(input).cpus).toBe(2);
    expect(resolveConfig({ ...input, flags: { cpu: 'e2-micro' } })).toMatchObject({
      cpuProfile: 'e2-micro',
      cpus: 0.5,
    });
    expect(resolveConfig({ ...input, env: { E2M_TWIN_CPU: 'e2-micro' } }).cpus).toBe(0.5);
    expect(() => resolveConfig({ ...input, flags: { cpu: 'fast' } })).toThrow(
      '--cpu must be full or e2-micro (got "fast")',
    );
  });

  it('names a second instance apart (E2M_TWIN_INSTANCE) and validates the name', () => {
    const c = resolveConfig({ ...input, env: { E2M_TWIN_INSTANCE: 'ci2' } });
    expect([c.container, c.gcsContainer, c.network, c.dockerVolume, c.hostname]).toEqual([
      'e2m-twin-ci2',
      'e2m-twin-ci2-gcs',
      'e2m-twin-ci2-net',
      'e2m-twin-ci2-docker',
      'e2m-twin',
    ]);
    expect(() => resolveConfig({ ...input, env: { E2M_TWIN_INSTANCE: 'Bad_Name' } })).toThrow(
      /E2M_TWIN_INSTANCE must be/,
    );
  });

  it('flags win over env, env over defaults', () => {
    const c = resolveConfig({
      ...input,
      env: { E2M_TWIN_SSH_PORT: '2300', E2M_TWIN_GCS_PORT: '4500' },
      flags: { 'ssh-port': '2400' },
    });
    expect(c.ports).toEqual({ ssh: 2400, http: 8080, https: 8443, gcs: 4500 });
  });

  it('names the flag or variable of a bad port, and refuses duplicates', () => {
    expect(() => resolveConfig({ ...input, flags: { 'http-port': 'x' } })).toThrow(
      new ConfigError('--http-port must be a port number 1-65535 (got "x")'),
    );
    expect(() => resolveConfig({ ...input, env: { E2M_TWIN_HTTPS_PORT: '70000' } })).toThrow(
      'E2M_TWIN_HTTPS_PORT must be a port number 1-65535 (got "70000")',
    );
    expect(() => resolveConfig({ ...input, flags: { 'http-port': 2222 } })).toThrow(/ports must differ/);
  });
});

describe('the base recipe', () => {
  it('is rebuilt when the provision script or the recipe changes, and only then', () => {
    expect(recipeHash('echo provision')).toBe(recipeHash('echo provision'));
    expect(recipeHash('echo provision')).not.toBe(recipeHash('echo provision2'));
    expect(recipeHash('x')).toMatch(/^[0-9a-f]{12}$/);
  });

  it('has what Ansible needs and no Docker', () => {
    expect(BASE_RECIPE.packages).toEqual(
      expect.arrayContaining(['systemd', 'openssh-server', 'sudo', 'python3']),
    );
    expect(BASE_RECIPE.packages.some((p) => p.includes('docker'))).toBe(false);
  });

  it('debootstraps, provisions in a chroot, and imports with systemd as the command', () => {
    const steps = buildBaseSteps(cfg, '/tmp/b', 'SCRIPT');
    expect(shell(steps)).toEqual([
      'mkdir -p /cache/twin/debs',
      `debootstrap --variant=minbase --cache-dir=/cache/twin/debs --include=${BASE_RECIPE.packages.join(',')} bookworm /tmp/b/rootfs http://deb.debian.org/debian`,
      'chroot /tmp/b/rootfs sh -s',
      'tar --numeric-owner -C /tmp/b/rootfs -cf /tmp/b/rootfs.tar .',
      `docker import --change 'CMD ["/lib/systemd/systemd"]' --change 'ENV container=docker' --change 'LABEL e2m.twin.recipe=${cfg.recipeHash}' /tmp/b/rootfs.tar ${cfg.baseImage}`,
      'rm -rf /tmp/b',
    ]);
    expect(steps[2]).toMatchObject({ input: 'SCRIPT' });
  });
});

describe('container commands', () => {
  it('runs the twin as a systemd box: 1 GB, no swap, 2 CPUs, loopback ports, nested cgroups', () => {
    expect(toShell(twinRunArgv(cfg))).toBe(
      'docker run --detach --name e2m-twin --hostname e2m-twin --network e2m-twin-net --memory 1g --memory-swap 1g --cpus 2 ' +
        '--cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined --security-opt apparmor=unconfined ' +
        '--cgroupns host --volume /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock ' +
        '--volume e2m-twin-docker:/var/lib/docker --stop-signal SIGRTMIN+3 ' +
        '--publish 127.0.0.1:2222:22 --publish 127.0.0.1:8080:80 --publish 127.0.0.1:8443:443 ' +
        `--label e2m.twin=vm --label 'e2m.twin.ports={"ssh":2222,"http":8080,"https":8443,"gcs":4443}' ${cfg.baseImage} /lib/systemd/systemd`,
    );
    expect(twinRunArgv(cfg)).not.toContain('--privileged');
  });

  it('runs the emulator on the shared network, published on loopback only', () => {
    expect(toShell(gcsRunArgv(cfg))).toBe(
      'docker run --detach --name e2m-twin-gcs --network e2m-twin-net --publish 127.0.0.1:4443:4443 --memory 256m --label e2m.twin=gcs ' +
        'e2m-fake-gcs:abc123 -scheme http -host 0.0.0.0 -port 4443 -backend memory -public-host e2m-twin-gcs:4443 -external-url http://e2m-twin-gcs:4443',
    );
  });
});

describe('upSteps', () => {
  it('from nothing: key, network, emulator, twin', () => {
    expect(shell(upSteps(cfg, { ...down, keyFile: false }))).toEqual([
      'mkdir -p -m 0700 /repo/.twin',
      "ssh-keygen -q -t ed25519 -N '' -C ops@e2m-twin -f /repo/.twin/id_ed25519",
      'docker network create --label e2m.twin=net e2m-twin-net',
      toShell(gcsRunArgv(cfg)),
      toShell(twinRunArgv(cfg)),
    ]);
  });

  it('keeps an existing key and restarts stopped containers instead of recreating them', () => {
    expect(shell(upSteps(cfg, { ...down, network: true, twin: 'stopped', gcs: 'stopped' }))).toEqual([
      'docker start e2m-twin-gcs',
      'docker start e2m-twin',
    ]);
  });
});

describe('afterStartSteps', () => {
  const metadata: Step[] = [{ kind: 'run', title: 'the metadata steps', argv: ['true'] }];
  const steps = afterStartSteps(cfg, { version: 1, path: '/docker/abc' }, metadata);
  it('lays down the docker drop-in, waits for systemd, then the metadata steps, then waits for GCS', () => {
    expect(steps.map((s) => s.kind)).toEqual(['run', 'wait', 'run', 'wait']);
    expect(steps[0]).toMatchObject({ input: dockerDropIn({ version: 1, path: '/docker/abc' }) });
    expect(steps[1]).toMatchObject({
      argv: ['docker', 'exec', 'e2m-twin', 'systemctl', 'is-system-running', '--wait'],
      expect: 'running',
      failOn: ['degraded', 'maintenance', 'stopping'],
    });
    expect(steps[2]).toBe(metadata[0]);
    expect(shell(steps)[3]).toBe(
      "curl -fsS -o /dev/null 'http://127.0.0.1:4443/storage/v1/b?project=e2m-twin-local'",
    );
  });

  it('nests the inner Docker under the twin cgroup with a flag, keeping the unit own options', () => {
    const d = dockerDropIn({ version: 1, path: '/docker/abc' });
    expect(d).toContain('Environment="E2M_TWIN_DOCKER_OPTS=--cgroup-parent=/docker/abc/inner"');
    // cgroup v2: the systemd driver dockerd would pick takes only a slice as the parent.
    expect(dockerDropIn({ version: 2, path: '/system.slice/docker-abc.scope' })).toContain(
      'Environment="E2M_TWIN_DOCKER_OPTS=--cgroup-parent=/system.slice/docker-abc.scope/inner --exec-opt native.cgroupdriver=cgroupfs"',
    );
    expect(d).toMatch(/^ExecStart=$/m);
    expect(d).toContain(
      'ExecStart=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock $DOCKER_OPTS $E2M_TWIN_DOCKER_OPTS',
    );
  });
});

describe('renderStartupScript', () => {
  it("renders terraform/startup.sh.tftpl with compute.tf's variables", () => {
    const tpl = readFileSync(resolve(import.meta.dirname, '../../../terraform/startup.sh.tftpl'), 'utf8');
    const out = renderStartupScript(tpl, { admin_user: 'ops' });
    expect(out).toContain('id "ops"');
    expect(out).not.toContain('${');
  });

  it('refuses a variable it was not given and template syntax it cannot render', () => {
    expect(() => renderStartupScript(['echo $', '{domain}'].join(''), { admin_user: 'ops' })).toThrow(
      /unknown variable \$\{domain\}/,
    );
    expect(() => renderStartupScript('%{ if x }a%{ endif }', {})).toThrow(
      /template syntax the twin cannot render: %\{/,
    );
  });
});

describe('twinCgroup', () => {
  it('reads cgroup v1 from the memory line, dropping systemd init.scope', () => {
    const v1 =
      '12:net_cls,net_prio:/\n4:memory:/docker/abc/init.scope\n1:cpu:/docker/abc\n0::/docker/abc/init.scope\n';
    expect(twinCgroup(v1)).toEqual({ version: 1, path: '/docker/abc' });
    expect(twinCgroup('5:cpuacct,memory:/docker/x\n')).toEqual({ version: 1, path: '/docker/x' });
  });
  it('reads cgroup v2 from the unified line', () => {
    expect(twinCgroup('0::/system.slice/docker-abc.scope/init.scope\n')).toEqual({
      version: 2,
      path: '/system.slice/docker-abc.scope',
    });
  });
  it('refuses a root cgroup (a twin without a limit of its own)', () => {
    expect(() => twinCgroup('4:memory:/\n')).toThrow(/not in a cgroup of its own/);
  });
});

describe('buckets, ssh, inventory, down', () => {
  it('creates only missing buckets through the emulator JSON API', () => {
    expect(shell(createBucketSteps(cfg, ['e2m-twin-tfstate']))).toEqual([
      `curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' --data '{"name":"e2m-twin-backups"}' 'http://127.0.0.1:4443/storage/v1/b?project=e2m-twin-local'`,
    ]);
    expect(createBucketSteps(cfg, ['e2m-twin-tfstate', 'e2m-twin-backups'])).toEqual([]);
  });

  it('pins the twin host key and uses only the generated key', () => {
    expect(knownHostsLine(cfg, 'ssh-ed25519 AAAAC3 root@e2m-twin\n')).toBe(
      '[127.0.0.1]:2222 ssh-ed25519 AAAAC3\n',
    );
    expect(toShell(sshArgv(cfg, ['uptime']))).toBe(
      'ssh -i /repo/.twin/id_ed25519 -p 2222 -o IdentitiesOnly=yes -o UserKnownHostsFile=/repo/.twin/known_hosts -o StrictHostKeyChecking=yes ops@127.0.0.1 uptime',
    );
  });

  it('writes the inventory contract shared with inventory/gcp.yml', () => {
    const inv = YAML.parse(inventoryYaml(cfg));
    expect(Object.keys(inv.all.children)).toEqual(['e2micro']);
    expect(inv.all.children.e2micro.hosts.twin).toMatchObject({
      ansible_host: '127.0.0.1',
      ansible_port: 2222,
      ansible_user: 'ops',
      ansible_ssh_private_key_file: '/repo/.twin/id_ed25519',
    });
    expect(inv.all.children.e2micro.vars).toMatchObject({
      e2m_env: 'twin',
      e2m_domain: 'localhost',
      e2m_tls_mode: 'internal',
      e2m_backup_bucket: 'e2m-twin-backups',
      e2m_gcs_endpoint: 'http://e2m-twin-gcs:4443',
      e2m_project_id: 'e2m-twin-local',
      e2m_http_url: 'http://127.0.0.1:8080',
    });
  });

  it('down removes what exists and nothing else', () => {
    const up: DockerState = { ...down, network: true, twin: 'running', gcs: 'running' };
    expect(shell(downSteps(cfg, up, true))).toEqual([
      'docker rm --force --volumes e2m-twin',
      'docker rm --force e2m-twin-gcs',
      'docker network rm e2m-twin-net',
      'docker volume rm --force e2m-twin-docker',
    ]);
    expect(downSteps(cfg, up, true).at(-1)).toEqual({
      kind: 'removeFile',
      title: 'remove inventory/twin.yml',
      path: '/repo/inventory/twin.yml',
    });
    expect(downSteps(cfg, down, false)).toEqual([]);
  });

  it('names the Debian package of a missing tool', () => {
    expect(missingToolMessage('debootstrap')).toBe(
      'debootstrap not found: install the Debian package debootstrap (apt-get install debootstrap)',
    );
    expect(missingToolMessage('docker')).toBe(
      'docker not found: install the Debian package docker.io (apt-get install docker.io)',
    );
  });
});
