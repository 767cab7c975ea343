#!/usr/bin/env zx
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { chalk, echo, minimist } from 'zx';
import { currentActor, failer, handleHelp } from './lib/cli.ts';
import { execute, renderPlan } from './lib/deploy/execute.ts';
import { parseActive } from './lib/deploy/state.ts';
import { createStorage } from './lib/gcs.ts';
import { buildBundle, LeakError } from './lib/incident/bundle.ts';
import { consoleHints, readConsole, resetVm, tail } from './lib/incident/console.ts';
import { DRILL_ROUTES, drillAllowed, judgeRoutes, SWITCH_LIMIT_MS } from './lib/incident/drill.ts';
import { LOG_SOURCES, LogArgsError, logsCommand } from './lib/incident/logs.ts';
import { killSwitchPlan, PlanError, restartPlan, SERVICES } from './lib/incident/plans.ts';
import { killSwitchCommand, readActive } from './lib/incident/probes.ts';
import { siteStatus, timeUntil } from './lib/incident/site.ts';
import { renderFindings, runStatus } from './lib/incident/status.ts';
import { LocalRunner, SshRunner } from './lib/runner.ts';
import { loadTarget, TargetError } from './lib/target.ts';

const COMMON = `Options (every command):
  --target twin|dev|staging|prod   where (default twin)
  --json                           machine-readable output (one JSON object on the last line)
  -h, --help                       help (also after a command)`;

const HELP = {
  main: `Usage: zx scripts/incident.mjs <command> [options]     (or: npm run incident -- <command>)

Commands, in the order an operator reaches for them (README "Runbook"):
  status                              one screen: every check ok / warn / fail with its threshold
  logs [app|proxy|db|redis|system]    logs from the VM [--since 10m] [--follow] [--grep TEXT] [--lines N]
  diag [--upload] [--out FILE]        a tar.gz of status, journals, docker inspect, config (secrets redacted)
  restart app|proxy|db|redis          restart one component and wait until it is healthy [--dry-run]
  kill-switch on|off|status           every route but health answers 503 (on) [--reason TEXT] [--dry-run]
  drill kill-switch                   on, verify 503s, off, verify recovery, report times (not prod without --force)
  console                             the VM's serial console through the Compute API (when SSH is down)
  reset --force                       hard-reset the VM through the Compute API [--dry-run]

${COMMON}`,
  status: `Usage: status [--target T] [--json]
Reachability, uptime and load, memory, swap, disk, failed units, app containers, active release,
proxy, site (/readyz through the proxy), database, Redis, kill switch, last backup, OOM kills,
certificate. Exits 1 when any line fails; warnings alone exit 0.`,
  logs: `Usage: logs [app|proxy|db|redis|system] [--since 30s|10m|2h|1d|DATE] [--follow] [--grep TEXT] [--lines N]
Streams from the VM: app is the serving colour's container; the others are journald units
(caddy, mariadb, redis-server, everything). Default: app, the last 200 lines. With --grep the
exit code is grep's (1: no line matched).`,
  diag: `Usage: diag [--out FILE] [--upload] [--target T] [--json]
Writes a tar.gz bundle: status, journals (caddy, mariadb, redis, docker, backup, system, kernel),
docker inspect and logs of both colours, config, state, releases, audit, last backup. Every value
of /etc/e2-micro/app.env is redacted from every file (the bundle is checked before it is kept).
--upload copies it to the backups bucket under diag/.`,
  restart: `Usage: restart app|proxy|db|redis [--dry-run] [--target T] [--json]
Takes the deploy lock, restarts the one component (app: the serving colour's container; the
others: their systemd unit), waits for it to answer and for /readyz through the proxy, audits.`,
  'kill-switch': `Usage: kill-switch on [--reason TEXT] | off | status [--dry-run] [--target T] [--json]
Runs the backend's own \`kill-switch\` command in the serving container (Redis flag and file
fallback), audits, then measures from here how long until the site answers 503 (on) or recovers (off).`,
  drill: `Usage: drill kill-switch [--force] [--target T] [--json]
On twin or staging (prod needs --force): turn the switch on, check every route but health answers
503, turn it off, check recovery; reports the times. Refused when the switch is already on.`,
  console: `Usage: console [--zone ZONE] [--instance NAME] [--lines N] [--compute-endpoint URL] [--target T]
The VM's status and serial port 1 output through the Compute API, with hints. Needs Application
Default Credentials. The VM's zone comes from the inventory (e2m_zone, written by
\`npm run infra:inventory\` from \`terraform output instance_zone\`), else --zone or E2M_GCP_ZONE;
--instance defaults to the inventory host name. --compute-endpoint points at a stand-in of the API (tests).`,
  reset: `Usage: reset --force [--dry-run] [--zone ZONE] [--instance NAME] [--compute-endpoint URL] [--target T]
A hard reset through the Compute API (no clean shutdown): only when SSH and the site are gone
and the console shows no way back. Waits for the operation.`,
};

const argv = minimist(process.argv.slice(process.argv.findIndex((a) => a.endsWith('incident.mjs')) + 1), {
  string: ['target', 'since', 'grep', 'lines', 'out', 'reason', 'zone', 'instance', 'compute-endpoint'],
  boolean: ['json', 'help', 'follow', 'upload', 'dry-run', 'force'],
  alias: { h: 'help', f: 'follow' },
  default: { target: 'twin' },
});
const [command, ...rest] = argv._.map(String);
const root = resolve(import.meta.dirname, '..');
const t0 = Date.now();
const json = argv.json;
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const say = (...a) => json || echo(...a);
const progress = (text) => json || echo(chalk.dim(`[${elapsed()}] ${text}`));
const fail = failer(json);
const paint = (level, s) =>
  level === 'ok' ? chalk.green(s) : level === 'warn' ? chalk.yellow(s) : chalk.red(s);

handleHelp(HELP, command, argv.help, fail);

// Before anything is read: the refusal must not depend on prod being reachable.
if (command === 'drill') {
  if (rest[0] !== 'kill-switch') fail('drill what? only `drill kill-switch`', 2);
  const refused = drillAllowed(argv.target, argv.force);
  if (refused) fail(refused, 2);
}

let target;
try {
  target = loadTarget(argv.target, root);
} catch (e) {
  fail(e instanceof TargetError ? e.message : String(e), 2);
}

// --- Compute API: no SSH needed -------------------------------------------------------------
if (command === 'console' || command === 'reset') {
  const zone = argv.zone ?? process.env.E2M_GCP_ZONE ?? target.zone;
  if (!zone)
    fail(
      `${target.inventoryFile} has no e2m_zone for ${target.hostName}: regenerate it (npm run infra:inventory) or pass --zone ZONE`,
      2,
    );
  const ref = { project: target.projectId, zone, instance: argv.instance ?? target.hostName };
  const endpoint = argv['compute-endpoint'];
  const at = `${ref.project}/${ref.zone}/${ref.instance}`;
  try {
    if (command === 'console') {
      progress(`read the serial console of ${at}`);
      const out = await readConsole(ref, endpoint);
      const hints = consoleHints(out.contents);
      const lines = Number(argv.lines ?? 60);
      if (json)
        echo(
          JSON.stringify({ ok: true, ...ref, status: out.status, hints, tail: tail(out.contents, lines) }),
        );
      else {
        echo(chalk.bold(`${at}: ${out.status}`));
        echo(tail(out.contents, lines));
        for (const h of hints) echo(chalk.yellow(`hint: ${h}`));
        echo(
          chalk.dim(
            'SSH back when it answers: npm run incident -- status; last resort: incident reset --force',
          ),
        );
      }
    } else {
      if (!argv.force && !argv['dry-run'])
        fail(`reset power-cycles ${at} without a clean shutdown: pass --force`, 2);
      if (argv['dry-run']) {
        say(
          `would reset ${at} (POST .../zones/${ref.zone}/instances/${ref.instance}/reset) and wait for the operation`,
        );
        if (json) echo(JSON.stringify({ ok: true, dryRun: true, ...ref }));
      } else {
        progress(`reset ${at}`);
        const r = await resetVm(ref, endpoint);
        if (json) echo(JSON.stringify({ ok: true, ...ref, ...r }));
        else
          echo(
            chalk.green(`reset done in ${(r.ms / 1000).toFixed(1)}s (${r.operation}); then: incident status`),
          );
      }
    }
    process.exit(0);
  } catch (e) {
    fail(`Compute API: ${e.message}`);
  }
}

// --- everything else runs over SSH as the admin user ----------------------------------------
let vm;
const c0 = Date.now();
try {
  vm = await SshRunner.connect(
    {
      host: target.host,
      port: target.port,
      user: target.user,
      keyFile: target.keyFile,
      knownHostsFile: target.knownHostsFile,
    },
    { readyTimeoutMs: 10_000 },
  );
} catch (e) {
  const where = `${target.user}@${target.host}:${target.port}`;
  const finding = {
    id: 'ssh',
    title: 'VM reachable',
    level: 'fail',
    summary: `no SSH to ${where}: ${e.message}`,
    threshold: 'fail unless SSH answers within 10 s',
    ms: Date.now() - c0,
  };
  if (json) echo(JSON.stringify({ ok: false, level: 'fail', findings: [finding] }));
  else {
    echo(renderFindings([finding], paint));
    echo(
      target.name === 'twin'
        ? 'The twin: npm run twin -- status'
        : `Next: npm run incident -- console --target ${target.name} (serial console), then reset --force`,
    );
  }
  process.exit(1);
}
const reachable = {
  id: 'ssh',
  title: 'VM reachable',
  level: 'ok',
  summary: `SSH ${vm.where} in ${Date.now() - c0} ms`,
  threshold: 'fail unless SSH answers within 10 s',
  ms: Date.now() - c0,
};

const actor = await currentActor(root);
const site = { httpsUrl: target.httpsUrl, domain: target.domain, tlsMode: target.tlsMode };
const readActiveState = async () => parseActive(await vm.capture(readActive().argv));

/** Runs a plan with the deploy's executor and its progress lines; returns the outcome. */
async function runPlan(plan) {
  if (argv['dry-run']) {
    if (json) echo(JSON.stringify({ ok: true, dryRun: true, plan }));
    else echo(renderPlan(plan, { local: 'local', vm: vm.where }));
    return { ok: true, dryRun: true };
  }
  say(chalk.bold(`${plan.action}: ${plan.summary}`));
  return execute(
    plan,
    { local: new LocalRunner(), vm },
    {
      onEvent: (e) => {
        if (json) return;
        const tag = e.phase === 'rescue' ? chalk.yellow('rescue') : `${e.index + 1}/${e.total}`;
        if (e.type === 'start') echo(chalk.dim(`[${elapsed()}] ${tag} ${e.step.title}`));
        if (e.type === 'done') echo(chalk.dim(`      ok (${(e.ms / 1000).toFixed(1)}s)`));
        if (e.type === 'failed')
          echo(chalk.red(`      FAILED after ${(e.ms / 1000).toFixed(1)}s: ${e.error}`));
      },
    },
  );
}

async function status() {
  const report = await runStatus(vm, {
    domain: target.domain,
    reachable,
    onProbe: (e) => progress(`${e.id} (${e.ms} ms${e.code ? `, exit ${e.code}` : ''})`),
  });
  return report;
}

async function killSwitch(action, reason) {
  const active = await readActiveState();
  const plan = killSwitchPlan(action, { active, reason, actor, deployUser: target.deployUser });
  const outcome = await runPlan(plan);
  if (outcome.dryRun || !outcome.ok) return { ok: outcome.ok, outcome };
  // Measured from here as a client, from the moment the switch command returned (the flag is
  // written; the audit line came after it): siteMs. commandMs adds the command itself
  // (docker exec, the binary's start, the Redis write).
  const want = action === 'on' ? (s) => s === 503 : (s) => s !== 503 && s !== 0;
  const polled = await timeUntil(site, '/notes', want, 5_000);
  const siteMs = polled === undefined ? undefined : polled + (outcome.stepTimes.audit ?? 0);
  const commandMs = siteMs === undefined ? undefined : siteMs + (outcome.stepTimes.switch ?? 0);
  const state = JSON.parse((await vm.capture(killSwitchCommand(active.colour, 'status'))).split('\n').pop());
  return { ok: siteMs !== undefined, siteMs, commandMs, state, outcome };
}

async function routeResults() {
  const out = [];
  for (const r of DRILL_ROUTES) out.push({ ...r, status: await siteStatus(site, r.method, r.path) });
  return out;
}

let ok = true;
try {
  switch (command) {
    case 'status': {
      const report = await status();
      ok = report.ok;
      if (json) echo(JSON.stringify({ target: target.name, ...report }));
      else {
        echo(chalk.bold(`status of ${target.name} (${vm.where}) in ${(report.ms / 1000).toFixed(1)}s`));
        echo(renderFindings(report.findings, paint));
        echo(paint(report.level, `overall: ${report.level}`));
      }
      break;
    }
    case 'logs': {
      const source = rest[0] ?? 'app';
      if (!LOG_SOURCES.includes(source))
        fail(`unknown log source "${source}": one of ${LOG_SOURCES.join(', ')}`, 2);
      const active = source === 'app' ? await readActiveState() : undefined;
      let cmdArgv;
      try {
        cmdArgv = logsCommand({
          source,
          active,
          since: argv.since,
          follow: argv.follow,
          grep: argv.grep,
          lines: argv.lines === undefined ? undefined : Number(argv.lines),
        });
      } catch (e) {
        fail(e.message, e instanceof LogArgsError ? 2 : 1);
      }
      progress(`${source} logs from ${vm.where}${argv.follow ? ' (following; Ctrl-C stops)' : ''}`);
      process.on('SIGINT', async () => {
        await vm.close();
        process.exit(0);
      });
      const code = await vm.stream(
        cmdArgv,
        (b) => process.stdout.write(b),
        (b) => process.stderr.write(b),
      );
      ok = code === 0;
      if (code === 1 && argv.grep !== undefined) say(chalk.dim('(no line matched)'));
      break;
    }
    case 'diag': {
      const stamp = actor.now.replaceAll(':', '').replace(/\.\d+Z$/, 'Z');
      const out = resolve(argv.out ?? join(tmpdir(), `e2m-diag-${target.name}-${stamp}.tar.gz`));
      progress('status');
      const report = await status();
      const built = await buildBundle(
        vm,
        out,
        {
          'status.json': JSON.stringify({ target: target.name, ...report }, null, 2),
          'status.txt': renderFindings(report.findings),
        },
        (file, code) => progress(`${file}${code ? ` (exit ${code})` : ''}`),
      );
      let uploaded;
      if (argv.upload) {
        const object = `diag/${basename(out)}`;
        progress(`upload to gs://${target.bucket}/${object}`);
        await createStorage(target).bucket(target.bucket).upload(out, { destination: object });
        uploaded = `gs://${target.bucket}/${object}`;
      }
      if (json)
        echo(
          JSON.stringify({
            ok: true,
            file: out,
            bytes: built.bytes,
            redacted: built.redacted,
            uploaded,
            status: report.level,
          }),
        );
      else
        echo(
          chalk.green(
            `bundle ${out} (${(built.bytes / 1024).toFixed(0)} KB, ${built.files} files, ${built.redacted} secret values redacted)${uploaded ? `, uploaded to ${uploaded}` : ''}`,
          ),
        );
      break;
    }
    case 'restart': {
      const service = rest[0];
      if (!SERVICES.includes(service)) fail(`restart what? one of ${SERVICES.join(', ')}`, 2);
      const plan = restartPlan(service, {
        active: await readActiveState(),
        domain: target.domain,
        actor,
        deployUser: target.deployUser,
      });
      const outcome = await runPlan(plan);
      ok = outcome.ok;
      if (outcome.dryRun) break;
      if (json) echo(JSON.stringify({ action: 'restart', service, ...outcome }));
      else if (ok)
        echo(chalk.green(`${service} restarted and healthy in ${(outcome.ms / 1000).toFixed(1)}s`));
      else
        echo(
          chalk.red(
            `restart ${service} failed at "${outcome.failedStep}": ${outcome.error}; next: incident status, incident logs ${service === 'app' ? 'app' : service}`,
          ),
        );
      break;
    }
    case 'kill-switch': {
      const action = rest[0];
      if (!['on', 'off', 'status'].includes(action)) fail('kill-switch on|off|status', 2);
      if (action === 'status') {
        const active = await readActiveState();
        if (!active) fail('nothing is deployed: no kill switch to read');
        const state = JSON.parse(
          (await vm.capture(killSwitchCommand(active.colour, 'status'))).split('\n').pop(),
        );
        if (json) echo(JSON.stringify({ ok: true, ...state }));
        else
          echo(
            state.on
              ? chalk.yellow(`ON since ${state.since}: ${state.reason} (${state.source})`)
              : chalk.green('off'),
          );
        break;
      }
      const r = await killSwitch(action, argv.reason);
      ok = r.ok;
      if (r.outcome.dryRun) break;
      if (json)
        echo(
          JSON.stringify({
            ok,
            action,
            siteMs: r.siteMs ?? null,
            commandMs: r.commandMs ?? null,
            state: r.state,
            ms: r.outcome.ms,
          }),
        );
      else if (!r.outcome.ok) echo(chalk.red(`kill-switch ${action} failed: ${r.outcome.error}`));
      else if (r.siteMs === undefined)
        echo(
          chalk.red(
            `kill switch is ${r.state.on ? 'on' : 'off'} but the site did not ${action === 'on' ? 'answer 503' : 'recover'} within 5 s`,
          ),
        );
      else
        echo(
          chalk.green(
            `kill switch ${action}: the site ${action === 'on' ? 'answers 503' : 'serves again'} ${r.siteMs} ms after the switch (limit ${SWITCH_LIMIT_MS} ms; ${r.commandMs} ms including the command)`,
          ),
        );
      break;
    }
    case 'drill': {
      const active = await readActiveState();
      if (!active) fail('nothing is deployed: nothing to drill');
      const before = JSON.parse(
        (await vm.capture(killSwitchCommand(active.colour, 'status'))).split('\n').pop(),
      );
      if (before.on)
        fail(`the kill switch is already on (${before.reason}): not drilling over a real incident`);
      const problems = [];
      let on;
      let off;
      try {
        on = await killSwitch('on', `drill by ${actor.who}`);
        problems.push(...judgeRoutes(await routeResults(), 'on'));
      } finally {
        // Whatever happened above, the drill never leaves the site switched off.
        off = await killSwitch('off');
      }
      problems.push(...judgeRoutes(await routeResults(), 'off'));
      for (const [phase, r] of [
        ['on', on],
        ['off', off],
      ]) {
        if (!r?.outcome.ok) problems.push(`${phase}: ${r?.outcome.error ?? 'did not run'}`);
        else if (r.siteMs === undefined) problems.push(`${phase}: the site did not change within 5 s`);
        else if (r.siteMs > SWITCH_LIMIT_MS)
          problems.push(`${phase}: took ${r.siteMs} ms, limit ${SWITCH_LIMIT_MS} ms`);
      }
      ok = problems.length === 0;
      const result = {
        ok,
        onMs: on?.siteMs ?? null,
        offMs: off?.siteMs ?? null,
        onCommandMs: on?.commandMs ?? null,
        offCommandMs: off?.commandMs ?? null,
        routes: DRILL_ROUTES.length,
        problems,
        ms: Date.now() - t0,
      };
      if (json) echo(JSON.stringify(result));
      else {
        echo(
          `drill: 503 ${result.onMs} ms after on (${result.onCommandMs} ms with the command), recovered ${result.offMs} ms after off (${result.offCommandMs} ms); ${DRILL_ROUTES.length} routes checked each way`,
        );
        for (const p of problems) echo(chalk.red(`  ${p}`));
        echo(ok ? chalk.green(`drill passed in ${elapsed()}`) : chalk.red('drill FAILED'));
      }
      break;
    }
  }
} catch (e) {
  if (e instanceof PlanError || e instanceof LogArgsError || e instanceof LeakError) fail(e.message);
  throw e;
} finally {
  await vm.close();
}
process.exit(ok ? 0 : 1);
