// Pure: what the diagnostic bundle collects (file name -> command on the VM), and the redaction
// every collected text goes through before it is written anywhere.
import { type Argv, readReleases, readSwitch, sh } from '../deploy/commands.ts';
import { Colours, containerName, layout } from '../deploy/layout.ts';
import { UNITS } from './plans.ts';
import { BACKUP_RECORD, sudo } from './probes.ts';

export interface Collect {
  file: string;
  argv: Argv;
}

const JOURNAL_LINES = '2000';

export function diagCollects(): Collect[] {
  const journal = (unit: string): Argv =>
    sudo(['journalctl', '--no-pager', '--output', 'short-iso', '--unit', unit, '--lines', JOURNAL_LINES]);
  return [
    ...Object.values(UNITS).map((u) => ({ file: `journal/${u}.log`, argv: journal(u) })),
    { file: 'journal/docker.log', argv: journal('docker') },
    { file: 'journal/e2m-backup.log', argv: journal('e2m-backup') },
    {
      file: 'journal/system.log',
      argv: sudo(['journalctl', '--no-pager', '--output', 'short-iso', '--lines', JOURNAL_LINES]),
    },
    { file: 'journal/kernel.log', argv: sudo(sh('dmesg --time-format iso | tail -n 500')) },
    ...Colours.flatMap((c) => [
      {
        file: `docker/${containerName(c)}.inspect.json`,
        argv: sudo(['docker', 'inspect', containerName(c)]),
      },
      {
        file: `docker/${containerName(c)}.log`,
        argv: sudo(sh('docker logs --timestamps --tail 2000 "$1" 2>&1', containerName(c))),
      },
    ]),
    { file: 'docker/ps.txt', argv: sudo(['docker', 'ps', '--all', '--size']) },
    { file: 'docker/stats.txt', argv: sudo(['docker', 'stats', '--no-stream']) },
    { file: 'config/app.env', argv: sudo(['cat', layout.envFile]) },
    { file: 'config/Caddyfile', argv: sudo(['cat', '/etc/caddy/Caddyfile']) },
    { file: 'config/upstream.txt', argv: readSwitch() },
    { file: 'app/state.json', argv: sudo(['cat', layout.stateFile]) },
    { file: 'app/releases.jsonl', argv: sudo(readReleases(50)) },
    { file: 'app/audit.jsonl', argv: sudo(['tail', '-n', '200', layout.auditFile]) },
    { file: 'backup/last.json', argv: sudo(['cat', BACKUP_RECORD]) },
    { file: 'system/df.txt', argv: ['df', '-h'] },
    { file: 'system/free.txt', argv: ['free', '-m'] },
    { file: 'system/ps.txt', argv: ['ps', 'aux', '--sort=-rss'] },
    { file: 'system/failed-units.txt', argv: ['systemctl', '--failed', '--no-pager'] },
  ];
}

/** Values shorter than this are not treated as secrets: "1", "true" and "app" would redact everything. */
const MIN_SECRET = 6;

/** Keys of app.env whose values are not secret (shown as is in the bundle). */
const PUBLIC_KEYS = new Set(['APP_ENV']);

/**
 * Every secret-looking value of app.env: each value, and the user-info parts of URL values
 * (a password can appear on its own in a log line, not only inside its URL).
 */
export function secretValues(envText: string): string[] {
  const out = new Set<string>();
  for (const line of envText.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m || PUBLIC_KEYS.has(m[1])) continue;
    const value = m[2].trim().replace(/^(['"])(.*)\1$/, '$2');
    if (value.length >= MIN_SECRET) out.add(value);
    const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^@/]*)@/i.exec(value)?.[1];
    for (const part of userinfo?.split(':') ?? []) {
      const decoded = safeDecode(part);
      for (const p of new Set([part, decoded])) if (p.length >= MIN_SECRET) out.add(p);
    }
  }
  // Longest first, so a URL is replaced whole before its password inside it.
  return [...out].sort((a, b) => b.length - a.length);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export const REDACTED = '[redacted]';

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join(REDACTED);
  return out;
}

/** app.env as KEY=[redacted] lines: which keys are set is diagnostic, their values are not. */
export function redactEnvFile(envText: string): string {
  return envText
    .split('\n')
    .map((line) => {
      const m = /^(\s*[A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
      if (!m || PUBLIC_KEYS.has(m[1].trim())) return line;
      return `${m[1]}=${m[2].trim() === '' ? '' : REDACTED}`;
    })
    .join('\n');
}
