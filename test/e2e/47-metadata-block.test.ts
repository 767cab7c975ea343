// App containers cannot reach the metadata server; the VM itself still can. On GCP an app's
// remote code execution that reached 169.254.169.254 would hold the VM service account's token,
// and with it every backup. The twin's metadata server (`twin up`: scripts/lib/twin/metadata)
// sits in a network namespace of its own behind a veth pair, so a container's traffic to it is
// forwarded through the VM exactly as to GCP's; the app container's own network namespace
// (nsenter) sends it, as code in the app would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshRunner } from '../../scripts/lib/runner.ts';
import { connect, sudo, twinTarget } from './support/twin.ts';

let ssh: SshRunner;
let appPid: string;

/** GET with the header GCP's metadata server requires: prints the status, or fails. */
const get = (url: string) =>
  `import urllib.request; print(urllib.request.urlopen(urllib.request.Request(${JSON.stringify(url)}, headers={"Metadata-Flavor": "Google"}), timeout=4).status)`;

beforeAll(async () => {
  ssh = await connect();
  const serving = (await sudo(ssh, ['docker', 'ps', '--format', '{{.Names}}'])).stdout
    .split('\n')
    .find((n) => /^e2m-app-(blue|green)$/.test(n));
  if (!serving) throw new Error('no app container is running (40-deploy runs first)');
  appPid = (await sudo(ssh, ['docker', 'inspect', '-f', '{{.State.Pid}}', serving])).stdout.trim();
});

afterAll(async () => {
  await ssh?.close();
});

describe('metadata server: out of the app containers’ reach', () => {
  it('answers the VM itself', async () => {
    const token = 'http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token';
    const r = await sudo(ssh, ['python3', '-c', get(token)], { check: false });
    expect(r.stdout.trim(), r.stderr).toBe('200');
  });

  it('is dropped from inside an app container, while the container still reaches other hosts', async () => {
    const inApp = (url: string) =>
      sudo(ssh, ['nsenter', '-t', appPid, '-n', 'python3', '-c', get(url)], { check: false });
    const md = await inApp(
      'http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token',
    );
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
