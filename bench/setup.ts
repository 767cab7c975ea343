// `npm run bench -- setup`: the figures of `ansible-playbook setup.yml` on the twin: converge time
// (the first run on the twin as it is, then a run on the converged twin), the idle resident memory
// of each component of the stack and in total, and the Lynis hardening index (raw, and with the
// kernel tests skipped that a container cannot pass; see docs/setup.md).
// Needs: `npm run twin -- up` (use `npm run twin -- reset` first for a fresh-converge figure) and
// ansible-playbook on PATH (`bash .ci/install.sh` puts it in the shared venv; source .ci/env.sh).
// Options: --no-lynis (skip the Lynis runs, about 2 minutes).
import { join } from 'node:path';
import { argv, echo } from 'zx';
import { SshRunner } from '../scripts/lib/runner.ts';
import { loadTarget } from '../scripts/lib/target.ts';
import { converge, lynis, rss } from './lib/setup-figures.ts';

const root = join(import.meta.dirname, '..');
const target = loadTarget('twin', root);

const first = await converge('first (fresh if the twin was just reset)');
const second = await converge('converged');
const ssh = await SshRunner.connect(target);
try {
  // Let the services settle after the handlers ran.
  await new Promise((r) => setTimeout(r, 15_000));
  const by = await rss(ssh);
  const total = Object.values(by).reduce((a, b) => a + b, 0);
  echo('idle RSS per component (MiB):');
  for (const [k, v] of Object.entries(by).sort((a, b) => b[1] - a[1]))
    echo(`  ${k.padEnd(18)} ${v.toFixed(1)}`);
  echo(`  ${'total'.padEnd(18)} ${total.toFixed(1)}`);
  const result: Record<string, number> = {
    convergeFirstSeconds: first,
    convergeConvergedSeconds: second,
    rssTotalMiB: Math.round(total),
  };
  if (!argv['no-lynis']) {
    await ssh.run([
      'sudo',
      '-n',
      'env',
      'DEBIAN_FRONTEND=noninteractive',
      'apt-get',
      'install',
      '-y',
      '-qq',
      'lynis',
    ]);
    result.lynisRaw = await lynis(ssh, false);
    result.lynisKernelTestsSkipped = await lynis(ssh, true);
    echo(
      `Lynis hardening index: ${result.lynisRaw} raw, ${result.lynisKernelTestsSkipped} with KRNL-6000/KRNL-5788 skipped`,
    );
  }
  echo(JSON.stringify(result));
} finally {
  await ssh.close();
}
