// The deploy lock as a lease its holder renews (commands.ts takeLock): taken before the VM's
// state is read, so a plan is never made from state another deploy changed in the meantime;
// renewed by a heartbeat while the command runs; broken by the next taker once a dead holder's
// lease ran out, with an audit line naming it. --lock-wait queues behind a live holder.

import type { Parts } from '../batch.ts';
import type { Runner, RunResult } from '../runner.ts';
import * as cmd from './commands.ts';
import { LOCK_HEARTBEAT_S, LOCK_LEASE_S, layout } from './layout.ts';
import { type Actor, auditLine, holderJson, leaseToken } from './plan.ts';
import { parseLock, StateError } from './state.ts';

/** exit code of takeLock while a live holder has the lock */
const BUSY = 75;
/** The lock's part in the round trip that also reads (a name no read uses). */
const TAKE = 'take_lock';

export interface LeaseOptions {
  /** Seconds to wait for a live holder before giving up (0: refuse at once). */
  waitS: number;
  /** Progress lines (waiting, a broken lease). */
  say(line: string): void;
  /** The lock directory and the audit log (tests use scratch ones). */
  dir?: string;
  auditFile?: string;
  leaseS?: number;
  heartbeatMs?: number;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface Lease<K extends string = never> {
  /** What `read` gave, read just after the lock was taken, in the same round trip. */
  readonly read: Partial<Record<K, RunResult>>;
  /** The lease was lost while held (the heartbeat found another holder): say so. */
  readonly lost: boolean;
  /** The holder whose expired lease this one broke, if any. */
  readonly broke?: string;
  /** The command's own plan released the lock (its `unlock` step): stop the heartbeat, and let
   * `end` skip a second release. */
  released(): void;
  /** Stop the heartbeat and release the lock if it is still this command's. */
  end(): Promise<void>;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Who holds the lock and how long ago its lease was renewed, for the refusal; undefined when
 * the lock was released between the attempt and this read (then the next attempt may take it). */
async function describeHolder(vm: Runner, dir: string): Promise<string | undefined> {
  const h = parseLock(await vm.capture(cmd.sh('cat "$1/holder.json" 2>/dev/null || true', dir)));
  if (!h) return undefined;
  const age = await vm.capture(
    cmd.sh('m=$(stat -c %Y "$1/lease" 2>/dev/null) && echo $(( $(date +%s) - m )) || true', dir),
  );
  const who = `${h.who}@${h.host} (${h.command}) since ${h.time}`;
  return age
    ? `${who}; its lease was renewed ${age} s ago and lapses after ${LOCK_LEASE_S} s without a heartbeat`
    : `${who}; a manual lock: it holds until \`unlock\``;
}

/** Takes the lock; with `read`, runs those commands right after it in the same round trip (none
 * runs when the lock is busy), so the state a plan is made from costs no round trip of its own. */
export async function takeLease<K extends string = never>(
  vm: Runner,
  actor: Actor,
  command: string,
  o: LeaseOptions & { read?: Parts<K> },
): Promise<Lease<K>> {
  const dir = o.dir ?? layout.lockDir;
  const leaseS = o.leaseS ?? LOCK_LEASE_S;
  const sleep = o.sleep ?? wait;
  const now = o.now ?? Date.now;
  const deadline = now() + o.waitS * 1000;
  let said = false;
  let released = 0;
  if (o.read && TAKE in o.read) throw new Error(`takeLease: a read may not be named ${TAKE}`);
  for (;;) {
    // The lock first (a key inserted first comes first); the reads run only once it is taken.
    const parts = { [TAKE]: cmd.takeLock(holderJson(actor, command), leaseS, dir), ...o.read } as Parts<
      K | typeof TAKE
    >;
    const out = await vm.runSequence(parts, { mayFail: Object.keys(o.read ?? {}) as K[] });
    const r = out[TAKE] ?? { code: 1, stdout: '', stderr: 'the lock command did not run' };
    if (r.code === 0) {
      const broke = /^expired: (.*)$/m.exec(r.stdout)?.[1];
      if (broke !== undefined) {
        o.say(`broke the expired lease of a deploy that died: ${broke}`);
        const line = auditLine(actor, {
          event: 'lock-expired',
          holder: parseLock(broke) ?? broke,
          by: command,
        });
        await vm.run(cmd.appendLine(o.auditFile ?? layout.auditFile, line), { check: false });
      }
      const { [TAKE]: _, ...read } = out;
      return heartbeat<K>(vm, leaseToken(actor), dir, o.heartbeatMs ?? LOCK_HEARTBEAT_S * 1000, {
        broke,
        read: read as Partial<Record<K, RunResult>>,
      });
    }
    if (r.code !== BUSY)
      throw new StateError(`cannot take the deploy lock ${dir}: ${r.stderr.trim() || `exit ${r.code}`}`);
    const holder = await describeHolder(vm, dir);
    if (holder === undefined && released++ < 3) continue;
    const who = holder ?? 'holders that come and go';
    if (now() >= deadline)
      throw new StateError(
        `locked by ${who}${o.waitS ? `; waited ${o.waitS} s` : '; --lock-wait SECONDS queues behind it'}`,
      );
    if (!said) o.say(`waiting up to ${o.waitS} s for the deploy lock, held by ${who}`);
    said = true;
    await sleep(o.pollMs ?? 2000);
  }
}

function heartbeat<K extends string>(
  vm: Runner,
  token: string,
  dir: string,
  everyMs: number,
  o: { broke?: string; read: Partial<Record<K, RunResult>> },
): Lease<K> {
  let lost = false;
  let done = false;
  let beating: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    beating = vm.run(cmd.renewLock(token, dir), { check: false }).then(
      (r) => {
        // A renewal that crossed the plan's own unlock fails too, and is no loss.
        if (r.code !== 0 && !done) lost = true;
      },
      () => undefined, // a dropped connection: the lease runs out on its own
    );
  }, everyMs);
  timer.unref();
  return {
    get lost() {
      return lost;
    },
    broke: o.broke,
    read: o.read,
    released() {
      done = true;
      clearInterval(timer);
    },
    async end() {
      clearInterval(timer);
      await beating;
      if (done) return;
      done = true;
      await vm.run(cmd.releaseLock(token, dir), { check: false }).catch(() => undefined);
    },
  };
}
