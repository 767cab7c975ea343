import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalRunner, toShell } from '../runner.ts';
import * as cmd from './commands.ts';

// Exact command strings: what runs on the VM is reviewed here, once.
describe('deploy commands', () => {
  it('runs a colour locked down, on loopback, with the shared env file, PORT and the release, as `serve`', () => {
    expect(toShell(cmd.runColour({ colour: 'green', image: 'e2m/backend:r2', release: 'r2' }))).toBe(
      'docker run --detach --name e2m-app-green --restart unless-stopped --read-only --cap-drop ALL --security-opt no-new-privileges ' +
        '--memory 256m --memory-swap 256m --cpus 1 --pids-limit 256 --publish 127.0.2.2:3000:3000 --env-file /etc/e2-micro/app.env ' +
        '--env PORT=3000 --env RELEASE=r2 --volume e2m-app-data:/var/lib/app --label e2m.app=backend --label e2m.colour=green --label e2m.release=r2 e2m/backend:r2 serve',
    );
  });

  it('migrates in a one-off container of the new image, bounded in time, a leftover removed first', () => {
    expect(toShell(cmd.migrate('e2m/backend:r2'))).toBe(
      `sh -c 't=$1; n=$2; shift 2; docker rm -f "$n" >/dev/null 2>&1; timeout "$t" "$@"; rc=$?; [ "$rc" = 124 ] && docker rm -f "$n" >/dev/null 2>&1; exit "$rc"' ` +
        'sh 300 e2m-migrate docker run --name e2m-migrate --rm --read-only --cap-drop ALL --security-opt no-new-privileges --network bridge --env-file /etc/e2-micro/app.env --memory 256m e2m/backend:r2 migrate',
    );
  });

  it('removes a colour only when it holds the given release, if one is given', () => {
    const only = cmd.removeContainer('blue', 'example.com', 'r3');
    expect(only.slice(3)).toEqual(['sh', 'e2m-app-blue', 'example.com', 'r3']);
    expect(only[2]).toContain('[ -z "$3" ] || [ "$l" = "$3" ] || exit 0');
    expect(cmd.removeContainer('blue', 'example.com').slice(3)).toEqual([
      'sh',
      'e2m-app-blue',
      'example.com',
    ]);
  });

  it('keeps a colour warm: its end by the VM clock, written by rename for the parker (timers role)', () => {
    expect(toShell(cmd.keepWarm('green', 'r1', 900))).toBe(
      `sh -c 'printf "%s %s %s\\n" "$1" "$(( $(date +%s) + $2 ))" "$3" > "$4.tmp" && mv -f "$4.tmp" "$4"' sh green 900 r1 /srv/app/warm`,
    );
    expect(toShell(cmd.unscheduleWarm())).toBe('rm -f /srv/app/warm');
  });

  it('probes a colour from the VM on its loopback address: no binary inside the image is needed', () => {
    expect(toShell(cmd.readyProbe('blue'))).toBe(
      'curl -sf -o /dev/null --max-time 2 http://127.0.2.1:3000/readyz',
    );
    const probe = cmd.contractProbe('green');
    expect(probe.slice(3)).toEqual(['sh', 'e2m-app-green', '127.0.2.2:3000']);
    expect(probe[2]).toContain(`curl -s -i --max-time 2 "http://$2/readyz"`);
    expect(probe[2]).toContain(`curl -s -o /dev/null -w '%{http_code}\\n' --max-time 2 "http://$2/healthz"`);
  });

  it('stops a colour with SIGTERM and 30 s to drain, and prints how it exited', () => {
    expect(toShell(cmd.stopColour('green'))).toBe(
      `sh -c 'docker stop --time "$2" "$1" >/dev/null && docker inspect --format "{{.State.ExitCode}}" "$1"' sh e2m-app-green 30`,
    );
  });

  it('loads a shipped image on the VM and reads the layers its images hold', () => {
    expect(toShell(cmd.loadImage('/srv/app/images/r2.tar.zst'))).toBe(
      `sh -c 'zstd -q -dc "$1" | docker load && rm -f "$1"' sh /srv/app/images/r2.tar.zst`,
    );
    expect(toShell(cmd.listLayers())).toBe(
      `sh -c 'docker image ls --quiet --no-trunc | sort -u | xargs -r docker image inspect --format "{{json .RootFS.Layers}}"' sh`,
    );
  });

  it("switches the proxy with the caddy role's helper and one fixed target: no reload, no address", () => {
    expect(toShell(cmd.switchProxy('blue'))).toBe('sudo -n /usr/local/sbin/e2m-proxy-switch blue');
    expect(toShell(cmd.switchProxy('maintenance'))).toBe(
      'sudo -n /usr/local/sbin/e2m-proxy-switch maintenance',
    );
    expect(toShell(cmd.readSwitch())).toBe(
      `sh -c 'getent hosts "$1" | cut -d" " -f1; cat "$2" 2>/dev/null || true' sh e2m-upstream.invalid /var/lib/e2m-proxy/upstream`,
    );
  });

  it('takes the lock with an atomic mkdir, under flock, with the lease as an argument', () => {
    const argv = cmd.takeLock('{"who":"a"}', 90);
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    expect(argv[2]).toMatch(
      /^f="\$\(dirname "\$1"\)\/\.\$\(basename "\$1"\)\.flock"; exec 8>"\$f" && flock -w 10 8/,
    );
    expect(argv.slice(3)).toEqual(['sh', '/srv/app/lock', '{"who":"a"}', '90']);
    expect(toShell(cmd.releaseLock())).toBe('rm -rf /srv/app/lock');
  });

  it('never splices values into a shell script: hostile values stay single arguments', () => {
    const evil = `x'; rm -rf / #`;
    const argv = cmd.appendLine('/srv/app/audit.jsonl', evil);
    expect(argv.slice(0, 3)).toEqual(['sh', '-c', 'printf "%s\\n" "$1" >> "$2"']);
    expect(argv[4]).toBe(evil);
  });

  it('probes the proxy as a client would, by name, and prints status and release', () => {
    expect(cmd.probeThroughProxy('example.com').slice(3)).toEqual(['sh', 'example.com']);
    expect(cmd.probeThroughProxy('example.com')[2]).toContain(
      '--resolve "$1:443:127.0.0.1" "https://$1/readyz"',
    );
  });
});

// What the VM's shell does with the wait: run by a real `sh` here.
describe('untilOutput (a wait polled on the host, one round trip)', () => {
  const local = new LocalRunner();
  /** Prints "200 v1" for its first `n` runs, then "200 v2" (a proxy that moves). */
  const movesAfter = (n: number) => {
    const count = join(mkdtempSync(join(tmpdir(), 'e2m-until-')), 'n');
    return cmd.sh(
      'c=$(cat "$1" 2>/dev/null || echo 0); echo $((c + 1)) > "$1"; [ "$c" -ge "$2" ] && echo "200 v2" || echo "200 v1"',
      count,
      String(n),
    );
  };

  it('runs the command again every interval until it prints what is wanted', async () => {
    const t0 = Date.now();
    const r = await local.run(cmd.untilOutput(movesAfter(3), '200 v2', 10, 0.05), { check: false });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    // Four runs, three intervals between them: well under the 10 s bound.
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('gives up after its bound, saying what it saw last and what it wanted', async () => {
    const r = await local.run(cmd.untilOutput(movesAfter(1000), '200 v2', 1, 0.2), { check: false });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('not done after 1 s: got "200 v1", want "200 v2"');
  });

  it('names a failing command by its exit code and last line', async () => {
    const r = await local.run(cmd.untilOutput(cmd.sh('echo refused >&2; exit 7'), '200 v2', 1, 0.2), {
      check: false,
    });
    expect(r.stderr.trim()).toBe('not done after 1 s: got "exit 7: refused", want "200 v2"');
  });
});
