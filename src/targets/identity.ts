import type { ProcessIdentity } from '../kernel/proc-text.js';

/** Same pid and the same start time: the same process. */
export function sameProcess(a: ProcessIdentity, b: ProcessIdentity): boolean {
  return a.pid === b.pid && a.starttime === b.starttime;
}

/** A map key for a process: a reused pid gives another key. */
export function identityKey(p: ProcessIdentity): string {
  return `${p.pid}:${p.starttime}`;
}
