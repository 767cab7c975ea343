// When SSH does not answer: the VM's serial console and a hard reset through the Compute API
// (@google-cloud/compute over its REST transport). `endpoint` points it at a local stand-in
// (tests): plain http, no credentials looked up. Otherwise the real API and the usual
// Application Default Credentials (gcloud auth application-default login).
import { InstancesClient, type protos, ZoneOperationsClient } from '@google-cloud/compute';
import { computeOptions, type VmRef } from '../compute-client.ts';

export type { VmRef };

export interface ConsoleOutput {
  status: string;
  contents: string;
  /** Where the next read would start (the serial buffer's byte offset). */
  next: number;
}

export async function readConsole(vm: VmRef, endpoint?: string): Promise<ConsoleOutput> {
  const client = new InstancesClient(computeOptions(endpoint));
  try {
    const [instance] = await client.get(vm);
    const [out] = await client.getSerialPortOutput({ ...vm, port: 1 });
    return {
      status: String(instance.status ?? 'UNKNOWN'),
      contents: out.contents ?? '',
      next: Number(out.next ?? 0),
    };
  } finally {
    await client.close();
  }
}

/** A hard reset (power cycle without a clean shutdown); waits for the operation, at most `timeoutMs`. */
export async function resetVm(
  vm: VmRef,
  endpoint?: string,
  timeoutMs = 120_000,
): Promise<{ operation: string; ms: number }> {
  const t0 = Date.now();
  const instances = new InstancesClient(computeOptions(endpoint));
  const operations = new ZoneOperationsClient(computeOptions(endpoint));
  try {
    const [lro] = await instances.reset(vm);
    let op = lro.latestResponse as protos.google.cloud.compute.v1.IOperation;
    // `wait` returns when the operation is done or after about 2 minutes: bounded by our own limit.
    while (String(op.status) !== 'DONE') {
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`reset operation ${op.name} not done after ${timeoutMs / 1000} s`);
      [op] = await operations.wait({ project: vm.project, zone: vm.zone, operation: String(op.name) });
    }
    const err = op.error?.errors?.map((e) => e.message).join('; ');
    if (err) throw new Error(`reset failed: ${err}`);
    return { operation: String(op.name), ms: Date.now() - t0 };
  } finally {
    await instances.close();
    await operations.close();
  }
}

/** The serial output's last lines, and what in them an operator should look at first. */
export function consoleHints(contents: string): string[] {
  const hints: [RegExp, string][] = [
    [/Kernel panic/i, 'kernel panic: reset the VM'],
    [
      /Out of memory|oom-kill/i,
      'the kernel killed processes for memory: check `incident status` memory and OOM lines once SSH answers',
    ],
    [
      /No space left on device/i,
      'a disk is full: free space (logs, old images: `npm run deploy -- cleanup`)',
    ],
    [/EXT4-fs error|I\/O error/i, 'filesystem or disk errors: snapshot the disk before anything else'],
    [
      /emergency mode|Give root password/i,
      'the VM booted into emergency mode (fstab or disk): needs the serial console interactively',
    ],
    [/sshd.*(fatal|error)/i, 'sshd reports errors: the SSH hardening may have locked the door'],
  ];
  return hints.filter(([re]) => re.test(contents)).map(([, hint]) => hint);
}

export function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}
