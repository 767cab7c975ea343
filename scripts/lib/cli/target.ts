// The entries' one call to the target reader: a target that cannot be read is a usage error
// (exit 2) naming the file and the fix.
import { loadTarget, type Target, TargetError } from '../target.ts';
import { CliError } from './context.ts';

export function readTarget(name: string, root: string): Target {
  try {
    return loadTarget(name, root);
  } catch (e) {
    throw new CliError(e instanceof TargetError ? e.message : String(e), 2);
  }
}
