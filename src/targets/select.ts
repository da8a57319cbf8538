import type { Kernel, ProcessInfo } from '../kernel/types.js';
import type { Config } from '../config/schema.js';
import { TierdError } from '../util/errors.js';

/**
 * The processes tierd manages: explicit pids, plus processes whose comm and cgroup match the
 * selectors and whose anonymous RSS reaches minRss. Never kernel threads, never tierd itself.
 * A config without any selector is refused, unless the caller takes every process by default
 * (the simulated host's scenarios, whose processes are all there to be managed).
 */
export function selectTargets(kernel: Pick<Kernel, 'processes' | 'process' | 'selfPid'>, t: Config['targets'], everyProcessByDefault = false): ProcessInfo[] {
  const bySelector = t.comm !== undefined || t.cgroup !== undefined;
  const self = kernel.selfPid();
  if (t.pids.length === 0 && !bySelector) {
    if (!everyProcessByDefault) {
      throw new TierdError('CONFIG', 'no targets configured', 'set targets.pids, targets.comm or targets.cgroup in the config (tierd never manages every process by default)');
    }
    return kernel.processes().filter((p) => !p.kernelThread && p.pid !== self);
  }
  const out = new Map<number, ProcessInfo>();
  for (const pid of t.pids) {
    const p = kernel.process(pid);
    if (p && !p.kernelThread && p.pid !== self) out.set(pid, p);
  }
  if (bySelector) {
    for (const p of kernel.processes()) {
      if (p.kernelThread || p.pid === self) continue;
      if (t.comm !== undefined && !t.comm.test(p.comm)) continue;
      if (t.cgroup !== undefined && !inCgroup(p.cgroup, t.cgroup)) continue;
      if (p.rssAnonBytes < t.minRss) continue;
      out.set(p.pid, p);
    }
  }
  return [...out.values()].sort((a, b) => a.pid - b.pid);
}

/** The cgroup itself or any below it; a trailing slash in the config names the same cgroup. */
function inCgroup(cgroup: string, want: string): boolean {
  const root = want.replace(/\/+$/, '');
  return cgroup === root || cgroup.startsWith(`${root}/`) || root === '';
}
