// A release id travels into a Caddy snippet, an archive path, a container label and the app's
// RELEASE variable, so one that came from outside (an image label, a tag, a file on the VM, the
// command line) is checked here first, by the app's own rule (backend/src/config.ts; the test
// holds the two equal). A newline would inject Caddy directives; a slash would move a path.
import { StateError } from './state.ts';

export const RELEASE_RULE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id, if it meets the rule; else a StateError naming where it came from. */
export function checkRelease(id: string, from: string): string {
  if (!RELEASE_RULE.test(id) || id.startsWith('.') || id.startsWith('-'))
    throw new StateError(
      `${from}: release id ${JSON.stringify(id.slice(0, 140))} is not valid (letters, digits and . _ : - only, at most 128, not starting with . or -)`,
    );
  return id;
}
