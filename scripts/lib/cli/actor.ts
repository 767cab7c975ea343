// Who runs a command, from where, for the audit log on the VM.
import { hostname, userInfo } from 'node:os';
import { $ } from 'zx';
import type { Actor } from '../deploy/plan.ts';

/** Who runs this, from where: git's user.email, else the login name. */
export async function currentActor(root: string): Promise<Actor> {
  return {
    who: (await $`git -C ${root} config user.email`.quiet().nothrow()).stdout.trim() || userInfo().username,
    host: hostname(),
    pid: process.pid,
    now: new Date().toISOString(),
  };
}
