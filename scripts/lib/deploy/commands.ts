// Pure: every command the deploy runs, as exact argv. No I/O, no clock, no environment.
// Where a pipe or a redirect is needed, the argv is `sh -c SCRIPT sh ARG...`: the script is a
// constant and the values travel as positional parameters, so nothing is ever spliced into it.
import { type Colour, containerName, layout, limits, ports } from './layout.ts';

export type Argv = string[];

export const sh = (script: string, ...args: string[]): Argv => ['sh', '-c', script, 'sh', ...args];

/** docker save | zstd into one file (local). */
export const saveImage = (image: string, file: string): Argv =>
  sh('docker save "$1" | zstd -q -T0 -3 -f -o "$2"', image, file);

/** zstd -d | docker load, then delete the upload (VM). */
export const loadImage = (file: string): Argv => sh('zstd -q -dc "$1" | docker load && rm -f "$1"', file);

export const mkdirImages = (): Argv => ['mkdir', '-p', layout.imagesDir];

/** Migrations run in a one-off container of the new image, before it serves anything. */
export const migrate = (image: string): Argv => [
  'docker',
  'run',
  '--rm',
  '--read-only',
  '--cap-drop',
  'ALL',
  '--security-opt',
  'no-new-privileges',
  '--network',
  'bridge',
  '--env-file',
  layout.envFile,
  '--memory',
  limits.memory,
  image,
  'migrate',
];

export const removeContainer = (colour: Colour): Argv => ['docker', 'rm', '-f', containerName(colour)];

export type RunSpec = { colour: Colour; image: string; release: string };

export const runColour = ({ colour, image, release }: RunSpec): Argv => [
  'docker',
  'run',
  '--detach',
  '--name',
  containerName(colour),
  '--restart',
  'unless-stopped',
  '--read-only',
  '--cap-drop',
  'ALL',
  '--security-opt',
  'no-new-privileges',
  '--memory',
  limits.memory,
  '--memory-swap',
  limits.memory,
  '--cpus',
  limits.cpus,
  '--pids-limit',
  limits.pids,
  '--publish',
  `127.0.0.1:${ports[colour]}:3000`,
  '--env-file',
  layout.envFile,
  '--env',
  `RELEASE=${release}`,
  '--volume',
  `${layout.dataVolume}:/var/lib/app`,
  '--label',
  'e2m.app=backend',
  '--label',
  `e2m.colour=${colour}`,
  '--label',
  `e2m.release=${release}`,
  image,
];

export const startContainer = (colour: Colour): Argv => ['docker', 'start', containerName(colour)];

/** Exit 0 once the colour's /readyz answers 200 (probed from inside its container). */
export const readyProbe = (colour: Colour): Argv => [
  'docker',
  'exec',
  containerName(colour),
  '/app/server',
  'healthcheck',
  '--ready',
];

/** The Caddy snippet that routes to one colour. */
export function upstreamSnippet(colour: Colour, release: string): string {
  return [
    `# Written by scripts/deploy.mjs: release ${release}, colour ${colour}.`,
    'handle {',
    `\treverse_proxy 127.0.0.1:${ports[colour]} {`,
    '\t\theader_up X-Request-Id {http.request.uuid}',
    '\t}',
    '}',
    '',
  ].join('\n');
}

/** Write the snippet beside the live one, then rename over it: Caddy never reads half a file. */
export const writeUpstream = (snippet: string): Argv =>
  sh('printf "%s" "$1" > "$2.tmp" && mv -f "$2.tmp" "$2"', snippet, layout.upstreamFile);

export const reloadProxy = (): Argv => ['sudo', '-n', '/usr/bin/systemctl', 'reload', 'caddy'];

/** What the proxy answers on /readyz, with the release header: "<status> <release>". */
export const probeThroughProxy = (domain: string): Argv =>
  sh(
    'curl -sk -o /dev/null -D - --max-time 5 --resolve "$1:443:127.0.0.1" "https://$1/readyz" | tr -d "\\r" | awk \'/^HTTP/{s=$2} tolower($1)=="x-release:"{r=$2} END{print s, r}\'',
    domain,
  );

/** SIGTERM, then up to 30 s for requests in flight; the container is kept for a rollback. */
export const stopColour = (colour: Colour): Argv => ['docker', 'stop', '--time', '30', containerName(colour)];

export const readState = (): Argv => sh('cat "$1" 2>/dev/null || true', layout.stateFile);
export const readReleases = (n = 200): Argv =>
  sh('tail -n "$2" "$1" 2>/dev/null || true', layout.releasesFile, String(n));
/** The app's containers, both colours, running or not; incident status asks for its own columns. */
export const listContainers = (format = '{{json .}}'): Argv => [
  'docker',
  'ps',
  '--all',
  '--filter',
  'label=e2m.app=backend',
  '--format',
  format,
];
export const listImages = (): Argv => [
  'docker',
  'image',
  'ls',
  '--no-trunc',
  '--format',
  '{{json .}}',
  layout.imageRepo,
];
export const readLock = (): Argv => sh('cat "$1/holder.json" 2>/dev/null || true', layout.lockDir);

export const writeState = (json: string): Argv =>
  sh('printf "%s\\n" "$1" > "$2.tmp" && mv -f "$2.tmp" "$2"', json, layout.stateFile);

/** One JSON object per line, appended (O_APPEND: lines from concurrent writers never interleave). */
export const appendLine = (file: string, json: string): Argv => sh('printf "%s\\n" "$1" >> "$2"', json, file);

/** mkdir is atomic: exactly one of two deploys gets the lock. */
export const takeLock = (holderJson: string): Argv =>
  sh(
    'mkdir "$1" 2>/dev/null || { echo "locked" >&2; exit 75; }; printf "%s\\n" "$2" > "$1/holder.json"',
    layout.lockDir,
    holderJson,
  );

export const releaseLock = (): Argv => ['rm', '-rf', layout.lockDir];

export const removeImage = (ref: string): Argv => ['docker', 'image', 'rm', ref];

export const diskFree = (): Argv => ['df', '--output=avail', '-B1', '/var/lib/docker'];
