import type { ProcessInfo } from '../kernel/types.js';

export interface MemcgChoice {
  /** cgroup v2 paths whose every page belongs to a target, sorted */
  memcgs: string[];
  /** targets left alone, with the reason, one line each */
  refused: { pid: number; comm: string; why: string }[];
}

/**
 * The memcgs a DAMOS scheme may act on for these targets. A `paddr` scheme moves any page of
 * its memcg, whoever maps it, so a target is managed only where its cgroup holds targets alone:
 * never the root cgroup (every process not placed elsewhere), never one shared with a process
 * the selectors did not choose (`selected`: what they choose at any RSS, so a small helper
 * process of a selected cgroup does not block it). A page is charged to the memcg of the process that first
 * touched it, so memory shared with another cgroup stays that cgroup's, and is never moved here.
 */
export function chooseMemcgs(targets: readonly ProcessInfo[], all: readonly ProcessInfo[], selected: ReadonlySet<number>, memcgUnavailable: (path: string) => string | null): MemcgChoice {
  const chosen = new Set([...selected, ...targets.map((t) => t.pid)]);
  const refused: MemcgChoice['refused'] = [];
  const memcgs = new Set<string>();
  const verdict = new Map<string, string | null>();
  for (const t of targets) {
    if (!verdict.has(t.cgroup)) verdict.set(t.cgroup, whyNot(t.cgroup, chosen, all, memcgUnavailable));
    const why = verdict.get(t.cgroup)!;
    if (why === null) memcgs.add(t.cgroup);
    else refused.push({ pid: t.pid, comm: t.comm, why });
  }
  return { memcgs: [...memcgs].sort(), refused };
}

function whyNot(cgroup: string, chosen: Set<number>, all: readonly ProcessInfo[], memcgUnavailable: (path: string) => string | null): string | null {
  if (cgroup === '') return 'its cgroup v2 path is unknown (/proc/PID/cgroup has no 0:: line)';
  if (cgroup === '/') return 'it is in the root cgroup, shared by every process not placed elsewhere; run it in a cgroup of its own (systemd-run --scope, a service, a pod)';
  const other = all.find((p) => p.cgroup === cgroup && !p.kernelThread && !chosen.has(p.pid));
  if (other) return `its cgroup ${cgroup} also holds pid ${other.pid} (${other.comm}), which the targets do not select; DAMOS would move that process's pages too`;
  return memcgUnavailable(cgroup);
}
