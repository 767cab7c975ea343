// The diagnostic bundle's I/O: run each collect on the VM (one at a time), redact, write into a
// private temporary directory, read everything back for leaks, and only then make the tar.gz.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LocalRunner, type Runner } from '../runner.ts';
import { diagCollects, redact, redactEnvFile, secretValues } from './diag.ts';
import { sudo } from './probes.ts';

export class LeakError extends Error {}

export interface BundleResult {
  file: string;
  bytes: number;
  /** How many distinct secret values were redacted from every file. */
  redacted: number;
  files: number;
}

/** `extra` (status.json and the like) is redacted like everything else. */
export async function buildBundle(
  vm: Runner,
  out: string,
  extra: Record<string, string>,
  onFile: (file: string, code: number) => void = () => {},
): Promise<BundleResult> {
  const secrets = secretValues(
    (await vm.run(sudo(['cat', '/etc/e2-micro/app.env']), { check: false })).stdout,
  );
  const dir = await mkdtemp(join(tmpdir(), 'e2m-diag-'));
  try {
    const write = async (file: string, text: string) => {
      await mkdir(dirname(join(dir, file)), { recursive: true });
      await writeFile(join(dir, file), redact(text, secrets), { mode: 0o600 });
    };
    for (const [file, text] of Object.entries(extra)) await write(file, text);
    for (const c of diagCollects()) {
      const r = await vm.run(c.argv, { check: false });
      const text = c.file === 'config/app.env' ? redactEnvFile(r.stdout) : r.stdout;
      await write(c.file, r.code === 0 ? text : `${text}\n# exit ${r.code}: ${r.stderr.trim()}\n`);
      onFile(c.file, r.code);
    }
    // Belt and braces: read every file back; a secret found means no bundle at all.
    const files = [];
    for (const f of await readdir(dir, { recursive: true }))
      if ((await stat(join(dir, f))).isFile()) files.push(f);
    const leaks = [];
    for (const f of files) {
      const text = await readFile(join(dir, f), 'utf8');
      if (secrets.some((s) => text.includes(s))) leaks.push(f);
    }
    if (leaks.length) throw new LeakError(`redaction failed for ${leaks.join(', ')}: no bundle written`);
    await mkdir(dirname(out), { recursive: true });
    await new LocalRunner().run(['tar', '-czf', out, '-C', dir, '.']);
    return { file: out, bytes: (await stat(out)).size, redacted: secrets.length, files: files.length };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
