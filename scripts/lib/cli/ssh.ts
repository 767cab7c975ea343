// SSH to the target VM with one answer for "unreachable": the entries judge it (incident turns
// it into the status screen's first finding, backup into an error), none of them catches it.
import { SshRunner, type SshTarget } from '../runner.ts';
import { CliError } from './context.ts';

export type Reach =
  | { ok: true; vm: SshRunner; where: string; ms: number }
  | { ok: false; where: string; error: string; ms: number };

export type Connect = (target: SshTarget, opts: { readyTimeoutMs?: number }) => Promise<SshRunner>;

export async function reachVm(
  target: SshTarget,
  opts: { readyTimeoutMs?: number } = {},
  connect: Connect = (t, o) => SshRunner.connect(t, o),
): Promise<Reach> {
  const where = `${target.user}@${target.host}:${target.port}`;
  const t0 = Date.now();
  try {
    const vm = await connect(target, opts);
    return { ok: true, vm, where: vm.where, ms: Date.now() - t0 };
  } catch (e) {
    return { ok: false, where, error: (e as Error).message, ms: Date.now() - t0 };
  }
}

/** For the commands that cannot go on without the VM: connected, or a CliError naming the host
 * and the inventory that said where it is. */
export async function connectVm(target: SshTarget, inventoryFile: string): Promise<SshRunner> {
  const reach = await reachVm(target);
  if (!reach.ok)
    throw new CliError(`cannot reach ${reach.where} over SSH (${inventoryFile}): ${reach.error}`);
  return reach.vm;
}
