// Several short commands in one round trip: each runs in turn inside one `sh -c`, its stdout
// framed by marker lines that carry a fresh nonce (so no output can forge one) and its exit code;
// the answer is split back into one result per command. A deploy reads the VM's state this way:
// one SSH command instead of eight (docs/deploy.md, "Where a command's time goes").
// Pure: the runners (runner.ts runEach) send the script and split the answer.
import { shellQuote, toShell } from './shell.ts';

export type Parts<K extends string> = Record<K, readonly string[]>;

const NAME = /^\w+$/;

/**
 * The script: each part as the runner would quote it on its own (shell.ts), so a part runs in
 * the batch exactly as it would alone; the nonce travels as the one positional parameter.
 */
export function batchArgv(parts: Parts<string>, nonce: string): string[] {
  const lines = Object.entries(parts).map(([name, argv]) => {
    if (!NAME.test(name)) throw new Error(`batch: part name "${name}" is not a word`);
    return `printf '\\n--- %s %s\\n' "$1" ${shellQuote(name)}; ${toShell(argv)}; printf '\\n--- %s rc %s\\n' "$1" "$?"`;
  });
  return ['sh', '-c', lines.join('\n'), 'sh', nonce];
}

/** The batch's stdout -> each part's exit code and stdout (trimmed, as Runner.capture gives it). */
export function splitBatch<K extends string>(
  stdout: string,
  names: readonly K[],
  nonce: string,
): Record<K, { code: number; stdout: string }> {
  const out = {} as Record<K, { code: number; stdout: string }>;
  const lines = stdout.split('\n');
  let i = 0;
  for (const name of names) {
    const start = lines.indexOf(`--- ${nonce} ${name}`, i);
    if (start < 0) throw new Error(`the batched command stopped before its part "${name}"`);
    const end = lines.findIndex((l, j) => j > start && l.startsWith(`--- ${nonce} rc `));
    if (end < 0) throw new Error(`the batched command stopped inside its part "${name}"`);
    out[name] = {
      code: Number(lines[end].slice(`--- ${nonce} rc `.length)),
      stdout: lines
        .slice(start + 1, end)
        .join('\n')
        .trim(),
    };
    i = end + 1;
  }
  return out;
}
