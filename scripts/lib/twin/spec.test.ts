// `npm run twin -- --help`, written from its table: the very text the entry printed before its
// command line became a table, line for line.
import { describe, expect, it } from 'vitest';
import { decide, mainHelp } from '../cli/args.ts';
import { twinSpec } from './spec.ts';

describe('twin --help', () => {
  it('is the help the entry has always printed', () => {
    expect(mainHelp(twinSpec).split('\n')).toEqual([
      'Usage: npm run twin -- <command> [options]',
      '',
      "A local twin of the project's GCP e2-micro VM: a Debian 12 systemd container with 1 GB of",
      'memory (no swap) and 2 CPUs, sshd, an admin user "ops" with passwordless sudo, plus a GCS',
      "emulator (fake-gcs-server) with the project's buckets. Everything listens on 127.0.0.1 only.",
      '',
      'Commands:',
      '  up       build the base image if its recipe changed, start the twin and the emulator, write',
      '           inventory/twin.yml. Says so and changes nothing when the twin is already up.',
      '  down     remove the twin, the emulator, their network and volume, and inventory/twin.yml',
      '           (the cached base image and the SSH key in .twin/ stay).',
      '  status   print the state; exit 0 when up, 3 when down, 1 when partly up.',
      '  ssh      open a shell on the twin as ops, or run a command: npm run twin -- ssh -- uptime',
      '  reset    down, then up: a fresh twin.',
      '',
      'Options:',
      '  --ssh-port N    SSH on 127.0.0.1:N   (default 2222, env E2M_TWIN_SSH_PORT)',
      '  --http-port N   HTTP on 127.0.0.1:N  (default 8080, env E2M_TWIN_HTTP_PORT)',
      '  --https-port N  HTTPS on 127.0.0.1:N (default 8443, env E2M_TWIN_HTTPS_PORT)',
      '  --gcs-port N    GCS emulator on 127.0.0.1:N (default 4443, env E2M_TWIN_GCS_PORT)',
      '  --cpu P         full (2 CPUs, default) or e2-micro (0.5: its sustained share; env E2M_TWIN_CPU)',
      '  --kernel        a QEMU guest with its own kernel, 1 GB RAM, 10 GB disk (slow; docs/twin.md)',
      '  --dry-run       print what up/down/reset would do, change nothing',
      '  -h, --help      this text',
      '',
      'Environment: E2M_TWIN_INSTANCE=NAME runs a second, separate twin (containers e2m-twin-NAME*) on',
      'the same Docker engine, e.g. for another checkout; give it other ports too.',
      '',
      'Exit codes: 0 success, 1 failure, 2 bad usage, 3 (status) twin is down.',
    ]);
  });

  it('hands ssh every word after --, options included, as the remote command', () => {
    expect(decide(twinSpec, ['ssh', '--ssh-port', '2722', '--', 'ls', '-la', '--help'])).toMatchObject({
      kind: 'run',
      invocation: { command: 'ssh', rest: ['ls', '-la', '--help'], values: { 'ssh-port': '2722' } },
    });
    expect(decide(twinSpec, ['status', '--bogus'])).toMatchObject({
      kind: 'usage',
      message: 'unknown option --bogus (see --help)',
    });
  });
});
