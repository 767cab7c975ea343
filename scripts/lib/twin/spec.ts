// `npm run twin`'s command line (scripts/twin.mjs): its commands, options, and the --help written
// from them (lib/cli/args.ts).
import { type CliSpec, helpOption } from '../cli/args.ts';
import { DEFAULT_PORTS, PORT_ENV } from './plan.ts';

const port = (help: string) => ({ type: 'string' as const, value: 'N', help });

export const twinSpec: CliSpec = {
  script: 'twin.mjs',
  usage: 'npm run twin -- <command> [options]',
  intro: `A local twin of the project's GCP e2-micro VM: a Debian 12 systemd container with 1 GB of
memory (no swap) and 2 CPUs, sshd, an admin user "ops" with passwordless sudo, plus a GCS
emulator (fake-gcs-server) with the project's buckets. Everything listens on 127.0.0.1 only.`,
  commandsTitle: 'Commands:',
  unknownCommand: (word) => `unknown command "${word}"`,
  column: 11,
  optionsTitle: 'Options:',
  optionsColumn: 18,
  options: {
    'ssh-port': port(`SSH on 127.0.0.1:N   (default ${DEFAULT_PORTS.ssh}, env ${PORT_ENV.ssh})`),
    'http-port': port(`HTTP on 127.0.0.1:N  (default ${DEFAULT_PORTS.http}, env ${PORT_ENV.http})`),
    'https-port': port(`HTTPS on 127.0.0.1:N (default ${DEFAULT_PORTS.https}, env ${PORT_ENV.https})`),
    'gcs-port': port(`GCS emulator on 127.0.0.1:N (default ${DEFAULT_PORTS.gcs}, env ${PORT_ENV.gcs})`),
    cpu: {
      type: 'string',
      value: 'P',
      help: 'full (2 CPUs, default) or e2-micro (0.5: its sustained share; env E2M_TWIN_CPU)',
    },
    kernel: {
      type: 'boolean',
      help: 'a QEMU guest with its own kernel, 1 GB RAM, 10 GB disk (slow; docs/twin.md)',
    },
    'dry-run': { type: 'boolean', help: 'print what up/down/reset would do, change nothing' },
    help: { ...helpOption, help: 'this text' },
  },
  commands: {
    up: {
      summary: `build the base image if its recipe changed, start the twin and the emulator, write
inventory/twin.yml. Says so and changes nothing when the twin is already up.`,
      options: ['ssh-port', 'http-port', 'https-port', 'gcs-port', 'cpu', 'kernel', 'dry-run'],
    },
    down: {
      summary: `remove the twin, the emulator, their network and volume, and inventory/twin.yml
(the cached base image and the SSH key in .twin/ stay).`,
      options: ['dry-run'],
    },
    status: { summary: 'print the state; exit 0 when up, 3 when down, 1 when partly up.', options: [] },
    ssh: {
      summary: 'open a shell on the twin as ops, or run a command: npm run twin -- ssh -- uptime',
      options: ['ssh-port'],
    },
    reset: { summary: 'down, then up: a fresh twin.', options: ['cpu', 'kernel', 'dry-run'] },
  },
  footer: `Environment: E2M_TWIN_INSTANCE=NAME runs a second, separate twin (containers e2m-twin-NAME*) on
the same Docker engine, e.g. for another checkout; give it other ports too.

Exit codes: 0 success, 1 failure, 2 bad usage, 3 (status) twin is down.`,
};
