// App containers cannot reach the metadata server; the VM itself still can. On GCP an app's
// remote code execution that reached 169.254.169.254 would hold the VM service account's token,
// and with it every backup. A stand-in listener at 169.254.169.254 sits in a network namespace of
// its own inside the twin, behind a veth pair, so a container's traffic to it is forwarded
// through the host exactly as to GCP's metadata server; the app container's own network
// namespace (nsenter) sends it, as code in the app would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshRunner } from '../../scripts/lib/runner.ts';
import { connect, sudo, twinTarget } from './support/twin.ts';

let ssh: SshRunner;
let appPid: string;

const get = (url: string) =>
  `import urllib.request; print(urllib.request.urlopen(${JSON.stringify(url)}, timeout=4).status)`;

beforeAll(async () => {
  ssh = await connect();
  await sudo(ssh, [
    'sh',
    '-ec',
    [
      'ip netns add e2m-md',
      'ip link add e2m-md0 type veth peer name e2m-md1',
      'ip link set e2m-md1 netns e2m-md',
      'ip addr add 169.254.169.253/30 dev e2m-md0',
      'ip link set e2m-md0 up',
      'ip -n e2m-md link set lo up',
      'ip -n e2m-md addr add 169.254.169.254/30 dev e2m-md1',
      'ip -n e2m-md link set e2m-md1 up',
      'ip -n e2m-md route add default via 169.254.169.253',
      'cd /tmp && ip netns exec e2m-md setsid python3 -m http.server 80 --bind 169.254.169.254 >/dev/null 2>&1 < /dev/null &',
      'sleep 1',
    ].join('\n'),
  ]);
  const serving = (await sudo(ssh, ['docker', 'ps', '--format', '{{.Names}}'])).stdout
    .split('\n')
    .find((n) => /^e2m-app-(blue|green)$/.test(n));
  if (!serving) throw new Error('no app container is running (40-deploy runs first)');
  appPid = (await sudo(ssh, ['docker', 'inspect', '-f', '{{.State.Pid}}', serving])).stdout.trim();
});

afterAll(async () => {
  await sudo(
    ssh,
    ['sh', '-c', 'ip netns pids e2m-md | xargs -r kill; ip netns del e2m-md; ip link del e2m-md0'],
    {
      check: false,
    },
  );
  await ssh?.close();
});

describe('metadata server: out of the app containers’ reach', () => {
  it('answers the VM itself', async () => {
    const r = await sudo(ssh, ['python3', '-c', get('http://169.254.169.254/')], { check: false });
    expect(r.stdout.trim(), r.stderr).toBe('200');
  });

  it('is dropped from inside an app container, while the container still reaches other hosts', async () => {
    const inApp = (url: string) =>
      sudo(ssh, ['nsenter', '-t', appPid, '-n', 'python3', '-c', get(url)], { check: false });
    const md = await inApp('http://169.254.169.254/');
    expect(md.code, 'the metadata server answered an app container').not.toBe(0);
    expect(md.stderr).toMatch(/timed out|Connection refused|unreachable/i);
    // The GCS emulator is another host on the twin's network: forwarding as such still works.
    // Its address is resolved here: the container's namespace cannot reach the twin's resolver.
    const gcs = new URL(twinTarget().vmGcsEndpoint ?? '');
    const ip = (await sudo(ssh, ['getent', 'hosts', gcs.hostname])).stdout.split(/\s+/)[0];
    const other = await inApp(`http://${ip}:${gcs.port}/storage/v1/b`);
    expect(other.stdout.trim(), other.stderr).toBe('200');
  });
});
