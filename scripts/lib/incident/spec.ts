// `npm run incident`'s command line: its options and commands, from which the parser reads
// argv and --help is written (lib/cli/args.ts).
import { type CliSpec, helpOption, targetOption } from '../cli/args.ts';

export const incidentSpec: CliSpec = {
  script: 'incident.mjs',
  usage: 'zx scripts/incident.mjs <command> [options]     (or: npm run incident -- <command>)',
  commandsTitle: 'Commands, in the order an operator reaches for them (README "Runbook"):',
  column: 38,
  options: {
    target: targetOption('where (default twin)'),
    json: { type: 'boolean', help: 'machine-readable output (one JSON object on the last line)' },
    since: { type: 'string', value: '30s|10m|2h|1d|DATE' },
    follow: { type: 'boolean', short: 'f' },
    grep: { type: 'string', value: 'TEXT' },
    lines: { type: 'string', value: 'N' },
    out: { type: 'string', value: 'FILE' },
    upload: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    reason: { type: 'string', value: 'TEXT' },
    force: { type: 'boolean' },
    zone: { type: 'string', value: 'ZONE' },
    instance: { type: 'string', value: 'NAME' },
    'compute-endpoint': { type: 'string', value: 'URL' },
    help: helpOption,
  },
  commands: {
    status: {
      summary: 'one screen: every check ok / warn / fail with its threshold',
      options: ['target', 'json'],
      about: `Reachability, uptime and load, memory, swap, disk, failed units, app containers, active release,
proxy, site (/readyz through the proxy), database, Redis, kill switch, last backup, OOM kills,
certificate. Exits 1 when any line fails; warnings alone exit 0.`,
    },
    logs: {
      synopsis: 'logs [app|proxy|db|redis|system]',
      summary: 'logs from the VM [--since 10m] [--follow] [--grep TEXT] [--lines N]',
      args: '[app|proxy|db|redis|system]',
      options: ['since', 'follow', 'grep', 'lines'],
      about: `Streams from the VM: app is the serving colour's container; the others are journald units
(caddy, mariadb, redis-server, everything). Default: app, the last 200 lines. With --grep the
exit code is grep's (1: no line matched).`,
    },
    diag: {
      synopsis: 'diag [--upload] [--out FILE]',
      summary: 'a tar.gz of status, journals, docker inspect, config (secrets redacted)',
      options: ['out', 'upload', 'target', 'json'],
      about: `Writes a tar.gz bundle: status, journals (caddy, mariadb, redis, docker, backup, system, kernel),
docker inspect and logs of both colours, config, state, releases, audit, last backup. Every value
of /etc/e2-micro/app.env is redacted from every file (the bundle is checked before it is kept).
--upload copies it to the backups bucket under diag/.`,
    },
    restart: {
      synopsis: 'restart app|proxy|db|redis',
      summary: 'restart one component and wait until it is healthy [--dry-run]',
      args: 'app|proxy|db|redis',
      options: ['dry-run', 'target', 'json'],
      about: `Takes the deploy lock, restarts the one component (app: the serving colour's container; the
others: their systemd unit), waits for it to answer and for /readyz through the proxy, audits.`,
    },
    'kill-switch': {
      synopsis: 'kill-switch on|off|status',
      summary: 'every route but health answers 503 (on) [--reason TEXT] [--dry-run]',
      args: 'on [--reason TEXT] | off | status',
      options: ['dry-run', 'target', 'json'],
      about: `Runs the backend's own \`kill-switch\` command in the serving container (Redis flag and file
fallback), audits, then measures from here how long until the site answers 503 (on) or recovers (off).`,
    },
    drill: {
      synopsis: 'drill kill-switch',
      summary: 'on, verify 503s, off, verify recovery, report times (not prod without --force)',
      args: 'kill-switch',
      options: ['force', 'target', 'json'],
      about: `On twin or staging (prod needs --force): turn the switch on, check every route but health answers
503, turn it off, check recovery; reports the times. Refused when the switch is already on.`,
    },
    console: {
      summary: "the VM's serial console through the Compute API (when SSH is down)",
      options: ['zone', 'instance', 'lines', 'compute-endpoint', 'target'],
      about: `The VM's status and serial port 1 output through the Compute API, with hints. Needs Application
Default Credentials. The VM's zone comes from the inventory (e2m_zone, written by
\`npm run infra:inventory\` from \`terraform output instance_zone\`), else --zone or E2M_GCP_ZONE;
--instance defaults to the inventory host name. --compute-endpoint points at a stand-in of the API (tests).`,
    },
    reset: {
      synopsis: 'reset --force',
      summary: 'hard-reset the VM through the Compute API [--dry-run]',
      args: '--force',
      options: ['dry-run', 'zone', 'instance', 'compute-endpoint', 'target'],
      about: `A hard reset through the Compute API (no clean shutdown): only when SSH and the site are gone
and the console shows no way back. Waits for the operation.`,
    },
  },
};
