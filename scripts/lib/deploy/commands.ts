// Pure: every command the deploy runs, as exact argv. No I/O, no clock, no environment.
// Where a pipe or a redirect is needed, the argv is `sh -c SCRIPT sh ARG...`: the script is a
// constant and the values travel as positional parameters, so nothing is ever spliced into it.
import {
  APP_PORT,
  type Colour,
  containerName,
  DRAIN_TIMEOUT_S,
  layout,
  limits,
  MIGRATE_TIMEOUT_S,
  type SwitchTarget,
  upstreamName,
  upstreamOf,
} from './layout.ts';

export type Argv = string[];

export const sh = (script: string, ...args: string[]): Argv => ['sh', '-c', script, 'sh', ...args];

/** Each image's layers on the VM, one JSON list of diff ids per line (layers.ts reads them). */
export const listLayers = (): Argv =>
  sh(
    'docker image ls --quiet --no-trunc | sort -u | xargs -r docker image inspect --format "{{json .RootFS.Layers}}"',
  );

/** zstd -d | docker load, then delete the upload (VM). */
export const loadImage = (file: string): Argv => sh('zstd -q -dc "$1" | docker load && rm -f "$1"', file);

export const mkdirImages = (): Argv => ['mkdir', '-p', layout.imagesDir];

/** The one-off migrate container's name, so a run past its time can be removed. */
export const MIGRATE_CONTAINER = 'e2m-migrate';

/**
 * Migrations run in a one-off container of the new image (`IMAGE migrate`), before it serves
 * anything. Bounded: past MIGRATE_TIMEOUT_S the container is removed and the exit code is 124
 * (timeout's), which the contract judge names. A leftover of a run whose SSH dropped is removed
 * first (the deploy lock is held, so no other migration runs).
 */
export const migrate = (image: string): Argv =>
  sh(
    't=$1; n=$2; shift 2; docker rm -f "$n" >/dev/null 2>&1; timeout "$t" "$@"; rc=$?; [ "$rc" = 124 ] && docker rm -f "$n" >/dev/null 2>&1; exit "$rc"',
    String(MIGRATE_TIMEOUT_S),
    MIGRATE_CONTAINER,
    ...oneOff(image, MIGRATE_CONTAINER, ['migrate']),
  );

/** The one-off container's flags, for `migrate` and its dry run alike. */
const oneOff = (image: string, name: string, command: string[]): Argv => [
  'docker',
  'run',
  '--name',
  name,
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
  ...command,
];

/**
 * `IMAGE migrate --dry-run`: the pending migrations and their SQL, judged before anything runs
 * (contract.ts judgeMigrations). The answer waits as `schema/<release>.json.new` until the judge
 * lets it run (recordSchema), so a refused migration never counts against a later rollback.
 */
export const migrationPlan = (image: string, release: string): Argv =>
  sh(
    'd=$1; r=$2; shift 2; out=$(timeout 120 "$@" 2>&1); rc=$?; printf "%s\\n" "$out"; [ "$rc" = 0 ] && mkdir -p "$d" && printf "%s\\n" "$out" | tail -n 1 > "$d/$r.json.new"; exit "$rc"',
    layout.schemaDir,
    release,
    ...oneOff(image, `${MIGRATE_CONTAINER}-plan`, ['migrate', '--dry-run']),
  );

/** The judged plan becomes what this release changed (`schema/<release>.json`, read by rollback). */
export const recordSchema = (release: string): Argv =>
  sh('[ ! -f "$1/$2.json.new" ] || mv -f "$1/$2.json.new" "$1/$2.json"', layout.schemaDir, release);

/** The dump before a destructive migration: the backup unit, as its timer starts it (waits). */
export const startBackup = (): Argv => ['sudo', '-n', '/usr/bin/systemctl', 'start', 'e2m-backup.service'];

/** Every release's recorded migration plan, one "<release> <json>" line each (rollback reads it). */
export const readSchemas = (): Argv =>
  sh(
    'for f in "$1"/*.json; do [ -f "$f" ] && printf "%s %s\\n" "$(basename "$f" .json)" "$(head -c 100000 "$f")"; done; true',
    layout.schemaDir,
  );

/**
 * Remove (or stop) one colour's container, unless the proxy serves its release: the last guard
 * that no stale plan or rescue ever takes down what the site routes to. The proxy is asked on the
 * VM's loopback, as `probeThroughProxy` asks it. A container that does not exist is done. With
 * `onlyRelease`, a container of another release is not this command's and is left alone (a
 * deploy that fails before it started its colour keeps the warm or parked one there).
 */
const unlessServing =
  (action: 'rm -f' | 'stop --time 5') =>
  (colour: Colour, domain: string, onlyRelease?: string): Argv =>
    sh(
      `l=$(docker inspect --format '{{index .Config.Labels "e2m.release"}}' "$1" 2>/dev/null) || exit 0
[ -z "$3" ] || [ "$l" = "$3" ] || exit 0
r=$(curl -sk -o /dev/null -D - --max-time 5 --resolve "$2:443:127.0.0.1" "https://$2/readyz" | tr -d '\\r' | awk 'tolower($1)=="x-release:"{print $2}')
if [ -n "$l" ] && [ "$l" = "$r" ]; then echo "refusing to touch $1: the proxy serves its release $r" >&2; exit 1; fi
docker ${action} "$1" >/dev/null`,
      containerName(colour),
      domain,
      ...(onlyRelease === undefined ? [] : [onlyRelease]),
    );

export const removeContainer = unlessServing('rm -f');
export const stopContainer = unlessServing('stop --time 5');

/** `cpus`: the inventory's `e2m_app_cpus`, else `limits.cpus`. */
export type RunSpec = { colour: Colour; image: string; release: string; cpus?: number };

export const runColour = ({ colour, image, release, cpus }: RunSpec): Argv => [
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
  cpus === undefined ? limits.cpus : String(cpus),
  '--pids-limit',
  limits.pids,
  '--publish',
  `${upstreamOf(colour)}:${APP_PORT}`,
  '--env-file',
  layout.envFile,
  '--env',
  `PORT=${APP_PORT}`,
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
  'serve',
];

export const startContainer = (colour: Colour): Argv => ['docker', 'start', containerName(colour)];

/** Exit 0 once the colour's /readyz answers 2xx on its loopback port (any app: no binary inside). */
export const readyProbe = (colour: Colour): Argv => [
  'curl',
  '-sf',
  '-o',
  '/dev/null',
  '--max-time',
  '2',
  `http://${upstreamOf(colour)}/readyz`,
];

/**
 * What the deploy's contract judge (contract.ts) reads of a new colour: its container state,
 * /healthz's status, /readyz's status line, headers and body, and the last log lines. Exits 0
 * whatever it sees: the judge decides.
 */
export const contractProbe = (colour: Colour): Argv =>
  sh(
    `echo '--- state'; docker inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}' "$1" 2>/dev/null || echo missing
echo '--- healthz'; curl -s -o /dev/null -w '%{http_code}\\n' --max-time 2 "http://$2/healthz"
echo '--- readyz'; curl -s -i --max-time 2 "http://$2/readyz" | head -c 2000; echo
echo '--- log'; docker logs --tail 2 "$1" 2>&1 | cut -c 1-200; true`,
    containerName(colour),
    upstreamOf(colour),
  );

/** A colour that never got ready, for the deploy's report (contract.ts parseHealthReport). */
export const healthReport = (colour: Colour): Argv =>
  sh(
    `echo '--- container'; docker inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}} {{.RestartCount}}' "$1" 2>/dev/null || echo missing
echo '--- readyz'; curl -s -i --max-time 2 "http://$2/readyz" | head -c 2000; echo
echo '--- log'; docker logs --tail 50 "$1" 2>&1 | cut -c 1-300; true`,
    containerName(colour),
    upstreamOf(colour),
  );

/**
 * Point the proxy at a colour, or at the maintenance page: the caddy role's root-owned helper
 * moves the name Caddy proxies to in /etc/hosts (the deploy user may run it with exactly these
 * three arguments). No reload: Caddy keeps every client connection, and resolves the name again
 * within a few seconds, so the plan verifies through the proxy before it stops the old colour.
 */
export const switchProxy = (target: SwitchTarget): Argv => ['sudo', '-n', layout.switchCommand, target];

/** Where the name points now and the switch's recorded target (incident diag, deploy status). */
export const readSwitch = (): Argv =>
  sh('getent hosts "$1" | cut -d" " -f1; cat "$2" 2>/dev/null || true', upstreamName, layout.switchStateFile);

/**
 * `argv` again every `intervalS` on the host, until it exits 0 printing `want`: a whole wait in
 * one round trip, so the answer is seen within the interval, not a round trip later. After
 * `timeoutS` it exits 1 with the last answer on stderr (the step's error, as is).
 */
export const untilOutput = (argv: Argv, want: string, timeoutS: number, intervalS: number): Argv =>
  sh(
    `t=$1; end=$(( $(date +%s) + t )); iv=$2; want=$3; shift 3
while :; do
  got=$("$@" 2>&1); rc=$?
  [ "$rc" = 0 ] && [ "$got" = "$want" ] && exit 0
  [ "$rc" = 0 ] || got="exit $rc: $(printf '%s\n' "$got" | tail -n 1)"
  if [ "$(date +%s)" -ge "$end" ]; then printf 'not done after %s s: got "%s", want "%s"\n' "$t" "$got" "$want" >&2; exit 1; fi
  sleep "$iv"
done`,
    String(timeoutS),
    String(intervalS),
    want,
    ...argv,
  );

/** What the proxy answers on /readyz, with the release header: "<status> <release>". */
export const probeThroughProxy = (domain: string): Argv =>
  sh(
    'curl -sk -o /dev/null -D - --max-time 5 --resolve "$1:443:127.0.0.1" "https://$1/readyz" | tr -d "\\r" | awk \'/^HTTP/{s=$2} tolower($1)=="x-release:"{r=$2} END{print s, r}\'',
    domain,
  );

/**
 * SIGTERM, then up to DRAIN_TIMEOUT_S for requests in flight; the container is kept for a
 * rollback. Prints the exit code: 137 means Docker had to kill it (the contract judge warns).
 */
export const stopColour = (colour: Colour): Argv =>
  sh(
    'docker stop --time "$2" "$1" >/dev/null && docker inspect --format "{{.State.ExitCode}}" "$1"',
    containerName(colour),
    String(DRAIN_TIMEOUT_S),
  );

/**
 * Keep a colour warm for `seconds`: "<colour> <until, epoch s by the VM's clock> <release>" in the
 * warm file, which the timers role's e2m-park-warm.path watches: when the window ends it stops the
 * colour as the drain did (never the one the proxy points at). Written by rename, so the parker
 * never reads half a line.
 */
export const keepWarm = (colour: Colour, release: string, seconds: number): Argv =>
  sh(
    'printf "%s %s %s\\n" "$1" "$(( $(date +%s) + $2 ))" "$3" > "$4.tmp" && mv -f "$4.tmp" "$4"',
    colour,
    String(seconds),
    release,
    layout.warmFile,
  );

/** Take the warm colour off the parker's schedule: a deploy or rollback is about to use it. */
export const unscheduleWarm = (): Argv => ['rm', '-f', layout.warmFile];

export const readWarm = (): Argv => sh('cat "$1" 2>/dev/null || true', layout.warmFile);

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

export const removeState = (): Argv => ['rm', '-f', layout.stateFile];

export const writeState = (json: string): Argv =>
  sh('printf "%s\\n" "$1" > "$2.tmp" && mv -f "$2.tmp" "$2"', json, layout.stateFile);

/** One JSON object per line, appended (O_APPEND: lines from concurrent writers never interleave). */
export const appendLine = (file: string, json: string): Argv => sh('printf "%s\\n" "$1" >> "$2"', json, file);

/**
 * The deploy lock: a directory (mkdir is atomic) with the holder's JSON. A deploy's lock is a
 * lease: `lease` in it is touched by the holder's heartbeat, and one not touched for `leaseS`
 * seconds, by the VM's own clock, belongs to a deploy that died; the next taker breaks it and
 * prints `expired: <old holder>` for the audit. A manual `lock` (leaseS 0) has no lease and holds
 * until `unlock`. Taking and breaking happen under flock (a hidden `.lock.flock` beside the lock
 * directory), so two takers never both break it.
 * Exit 75 while a live holder has it.
 */
export const takeLock = (holderJson: string, leaseS: number, dir: string = layout.lockDir): Argv =>
  sh(
    `f="$(dirname "$1")/.$(basename "$1").flock"; exec 8>"$f" && flock -w 10 8 || { echo "cannot flock $f" >&2; exit 75; }
if ! mkdir "$1" 2>/dev/null; then
  m=$(stat -c %Y "$1/lease" 2>/dev/null)
  if [ -n "$m" ] && [ $(( $(date +%s) - m )) -gt "$3" ]; then
    echo "expired: $(head -c 2000 "$1/holder.json" 2>/dev/null)"
    rm -rf "$1" && mkdir "$1" || exit 1
  else
    echo "locked" >&2; exit 75
  fi
fi
printf "%s\\n" "$2" > "$1/holder.json"
[ "$3" = 0 ] || touch "$1/lease"`,
    dir,
    holderJson,
    String(leaseS),
  );

/** The heartbeat: renew the lease while the lock is still this holder's (exit 1 once it is not). */
export const renewLock = (token: string, dir: string = layout.lockDir): Argv =>
  sh(
    'grep -qF "$2" "$1/holder.json" 2>/dev/null && touch "$1/lease"',
    dir,
    `"token":${JSON.stringify(token)}`,
  );

/**
 * Release the lock if it is this holder's (a lease broken while its holder stalled now belongs to
 * someone else, whose lock stays); without a token, whoever holds it (`unlock --force`).
 */
export const releaseLock = (token?: string, dir: string = layout.lockDir): Argv =>
  token === undefined
    ? ['rm', '-rf', dir]
    : sh(
        'grep -qF "$2" "$1/holder.json" 2>/dev/null && rm -rf "$1" || true',
        dir,
        `"token":${JSON.stringify(token)}`,
      );

export const removeImage = (ref: string): Argv => ['docker', 'image', 'rm', ref];

export const diskFree = (): Argv => ['df', '--output=avail', '-B1', '/var/lib/docker'];
