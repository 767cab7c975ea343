// Shell quoting, the one place argv becomes shell text. Its own module (re-exported by runner.ts)
// so code compiled into the VM's backup job gets quoting without node-ssh and zx.
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX shell quoting of one word: left bare when safe, else single-quoted. */
export function shellQuote(word: string): string {
  if (word === '') return "''";
  if (SAFE_WORD.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** argv -> one shell command line that a POSIX shell splits back into exactly argv. */
export function toShell(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('toShell: empty argv');
  return argv.map(shellQuote).join(' ');
}
