// Several short commands in one round trip: each runs in turn inside one `bash -c`, its stdout
// framed by marker lines that carry a fresh nonce (so no output can forge one), the clock on the
// far side ($EPOCHREALTIME, no fork) and its exit code; the answer is split back into one result
// per command. A deploy reads the VM's state this way (one SSH command instead of eight), and
// runs its plain steps this way (docs/deploy.md, "Where a command's time goes").
// Pure: the runners (runner.ts runEach, runSequence) send the script and split the answer.
import { shellQuote, toShell } from './shell.ts';

export type Parts<K extends string> = Record<K, readonly string[]>;

/** One part's answer; `ms` is its time on the far side (undefined where the shell has no clock). */
export interface PartResult {
  code: number;
  stdout: string;
  ms?: number;
}

const NAME = /^\w+$/;

/**
 * The script: each part as the runner would quote it on its own (shell.ts), so a part runs in
 * the batch exactly as it would alone; the nonce travels as the one positional parameter. A part
 * not in `mayFail` that fails ends the batch (a sequence of steps); by default every part runs.
 */
export function batchArgv(
  parts: Parts<string>,
  nonce: string,
  o: { stopUnless?: readonly string[] } = {},
): string[] {
  const lines = Object.entries(parts).map(([name, argv]) => {
    if (!NAME.test(name)) throw new Error(`batch: part name "${name}" is not a word`);
    const stop = o.stopUnless && !o.stopUnless.includes(name) ? '; [ "$rc" = 0 ] || exit 0' : '';
    return `printf '\\n--- %s %s %s\\n' "$1" ${shellQuote(name)} "$EPOCHREALTIME"; ${toShell(argv)}; rc=$?; printf '\\n--- %s rc %s %s\\n' "$1" "$rc" "$EPOCHREALTIME"${stop}`;
  });
  return ['bash', '-c', lines.join('\n'), 'bash', nonce];
}

const seconds = (s: string | undefined) => (s ? Number(s.replace(',', '.')) : Number.NaN);

/**
 * The batch's stdout -> each part's exit code, stdout (trimmed, as Runner.capture gives it) and
 * time. Parts after one that stopped the batch are absent; a batch that ended any other way
 * before a part (the connection or the shell died) throws, naming the part.
 */
export function splitBatch<K extends string>(
  stdout: string,
  names: readonly K[],
  nonce: string,
  o: { stopUnless?: readonly string[] } = {},
): Partial<Record<K, PartResult>> {
  const out: Partial<Record<K, PartResult>> = {};
  const lines = stdout.split('\n');
  const marker = (l: string, what: string) =>
    l === `--- ${nonce} ${what}` || l.startsWith(`--- ${nonce} ${what} `);
  let i = 0;
  for (const name of names) {
    const start = lines.findIndex((l, j) => j >= i && marker(l, name));
    if (start < 0) throw new Error(`the batched command stopped before its part "${name}"`);
    const end = lines.findIndex((l, j) => j > start && marker(l, 'rc'));
    if (end < 0) throw new Error(`the batched command stopped inside its part "${name}"`);
    const [code, t1] = lines[end].slice(`--- ${nonce} rc `.length).split(' ');
    const t0 = lines[start].slice(`--- ${nonce} ${name} `.length);
    const ms = Math.round((seconds(t1) - seconds(t0)) * 1000);
    out[name] = {
      code: Number(code),
      stdout: lines
        .slice(start + 1, end)
        .join('\n')
        .trim(),
      ...(Number.isFinite(ms) ? { ms } : {}),
    };
    i = end + 1;
    if (Number(code) !== 0 && o.stopUnless && !o.stopUnless.includes(name)) break;
  }
  return out;
}
