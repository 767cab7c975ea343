// The entries' one call to the target reader: a target that cannot be read is a usage error
// (exit 2) naming the file and the fix.
import { loadTarget, type ResolvedTarget, resolveTarget, type Target, TargetError } from '../target.ts';
import { CliError } from './context.ts';

const usage = (e: unknown) => new CliError(e instanceof TargetError ? e.message : String(e), 2);

export function readTarget(name: string, root: string): Target {
  try {
    return loadTarget(name, root);
  } catch (e) {
    throw usage(e);
  }
}

/** The VM or Cloud Run target, for the commands that serve both (deploy). */
export function readResolvedTarget(name: string, root: string): ResolvedTarget {
  try {
    return resolveTarget(name, root);
  } catch (e) {
    throw usage(e);
  }
}
