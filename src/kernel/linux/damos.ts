import type { Damos, DamosContext, DamosIntervals, DamosScheme, DamosStats } from '../types.js';
import { TierdError, fsErrorCode } from '../../util/errors.js';
import { busyError, busyRetrying, nodeFs, type SysfsIo } from './damon-sysfs.js';

/** u32 max: the kernel clamps the access pattern's upper bounds to it */
const NO_MAX = '4294967295';
/** a region size no region reaches: the pattern that stops a scheme until the next tune */
const NEVER_SZ = String(2 ** 52);

/** what each write proves the kernel has, for the one line when it refuses */
const NEEDS: Record<string, string> = {
  operations: 'DAMON physical-address operations (CONFIG_DAMON_PADDR)',
  action: 'the DAMOS migrate_hot/migrate_cold actions (Linux 6.11 or later)',
  type: 'DAMOS young and memcg page filters (Linux 6.10 or later, CONFIG_MEMCG)',
  memcg_path: 'the cgroup named by the memcg filter',
  state: 'a kernel that runs these schemes (Linux 6.11 or later with CONFIG_DAMON_PADDR and CONFIG_MEMCG) and the memcg filter\'s cgroup',
};

/**
 * DAMOS migration through DAMON's sysfs: a paddr kdamond per node, its schemes moving the
 * young (promote) or not-young (demote) pages of one memcg each. It starts only where no
 * kdamond exists (writing nr_kdamonds would tear down another user's) and stop() removes only
 * what start() made. Quotas change with `commit`, which keeps DAMON's regions and the counters.
 */
export class LinuxDamos implements Damos {
  private readonly admin: string;
  private contexts: DamosContext[] = [];
  private readonly io: SysfsIo;
  running = false;

  constructor(
    private readonly sysRoot: string,
    io: SysfsIo = nodeFs,
    sleep?: (ms: number) => void,
  ) {
    this.admin = `${sysRoot}/kernel/mm/damon/admin`;
    this.io = busyRetrying(io, sleep);
  }

  private read(rel: string): string {
    try {
      return this.io.read(`${this.admin}/${rel}`);
    } catch (e) {
      throw fsErrorCode(e) === 'EBUSY' ? busyError(`DAMOS: reading ${rel}`) : e;
    }
  }

  private write(rel: string, value: string | number): void {
    try {
      this.io.write(`${this.admin}/${rel}`, String(value));
    } catch (e) {
      if (fsErrorCode(e) === 'EBUSY') throw busyError(`DAMOS: writing ${JSON.stringify(String(value))} to ${rel}`);
      const file = rel.slice(rel.lastIndexOf('/') + 1);
      const need = NEEDS[file];
      const what = `DAMOS: the kernel refused ${JSON.stringify(String(value))} in ${rel} (${fsErrorCode(e) ?? String(e)})`;
      throw new TierdError('NO_FEATURE', what, need ? `migrate.engine damos needs ${need}; or use migrate.engine pages` : 'check that no one else changed tierd\'s kdamonds');
    }
  }

  unavailable(): string | null {
    if (!this.io.exists(`${this.admin}/kdamonds/nr_kdamonds`)) return 'no DAMON sysfs (CONFIG_DAMON_SYSFS)';
    if (this.running) return null;
    const n = Number(this.read('kdamonds/nr_kdamonds'));
    if (n > 0) return `another DAMON user has ${n} kdamond(s); tierd will not disturb them`;
    return null;
  }

  memcgUnavailable(path: string): string | null {
    const root = `${this.sysRoot}/fs/cgroup`;
    if (!this.io.exists(`${root}/cgroup.controllers`)) return `no cgroup v2 hierarchy at ${root}`;
    if (!this.io.exists(`${root}${path}/memory.current`)) return `cgroup ${path} has no memory controller (enable +memory in its parent's cgroup.subtree_control)`;
    return null;
  }

  /** [start, end) of a node's memory blocks: one DAMON region over them (holes are skipped by paddr) */
  nodeRange(node: number): [number, number] {
    const sys = `${this.sysRoot}/devices/system`;
    const block = parseInt(this.io.read(`${sys}/memory/block_size_bytes`), 16);
    const ids = this.io.list(`${sys}/node/node${node}`).filter((d) => /^memory\d+$/.test(d)).map((d) => Number(d.slice(6)));
    if (ids.length === 0 || !(block > 0)) throw new TierdError('NO_FEATURE', `node ${node} lists no memory blocks in ${sys}/node/node${node}`, 'the kernel needs CONFIG_MEMORY_HOTPLUG sysfs (every distribution kernel has it)');
    return [Math.min(...ids) * block, (Math.max(...ids) + 1) * block];
  }

  start(contexts: DamosContext[], iv: DamosIntervals, quotas: number[][]): void {
    if (this.running) this.stop();
    const why = this.unavailable();
    if (why !== null) throw new TierdError('NO_FEATURE', `DAMOS: ${why}`, 'stop the other DAMON user, or use migrate.engine pages');
    const ranges = contexts.map((c) => this.nodeRange(c.node));
    this.write('kdamonds/nr_kdamonds', contexts.length);
    this.contexts = contexts;
    this.running = true;
    try {
      contexts.forEach((c, k) => this.setContext(k, c, ranges[k]!, iv, quotas[k]!));
      contexts.forEach((_, k) => this.write(`kdamonds/${k}/state`, 'on'));
    } catch (e) {
      this.stop();
      throw e;
    }
  }

  private setContext(k: number, c: DamosContext, [lo, hi]: [number, number], iv: DamosIntervals, quotas: number[]): void {
    const ctx = `kdamonds/${k}/contexts/0`;
    this.write(`kdamonds/${k}/contexts/nr_contexts`, 1);
    this.write(`${ctx}/operations`, 'paddr');
    const a = `${ctx}/monitoring_attrs`;
    this.write(`${a}/intervals/sample_us`, iv.sampleUs);
    this.write(`${a}/intervals/aggr_us`, iv.aggrUs);
    // paddr has no mappings to follow: regions change only by split and merge
    this.write(`${a}/intervals/update_us`, iv.aggrUs * 10);
    this.write(`${a}/nr_regions/min`, iv.minRegions);
    this.write(`${a}/nr_regions/max`, iv.maxRegions);
    this.write(`${ctx}/targets/nr_targets`, 1);
    this.write(`${ctx}/targets/0/regions/nr_regions`, 1);
    this.write(`${ctx}/targets/0/regions/0/start`, lo);
    this.write(`${ctx}/targets/0/regions/0/end`, hi);
    this.write(`${ctx}/schemes/nr_schemes`, c.schemes.length);
    c.schemes.forEach((s, i) => this.setScheme(`${ctx}/schemes/${i}`, s, iv, quotas[i] ?? 0));
  }

  private setScheme(dir: string, s: DamosScheme, iv: DamosIntervals, quota: number): void {
    this.write(`${dir}/action`, s.action);
    if (s.action !== 'stat') this.write(`${dir}/target_nid`, s.targetNid);
    const hot = s.direction === 'promote';
    this.write(`${dir}/access_pattern/sz/max`, NEVER_SZ);
    // demotion takes any region: its quota is only what the fast node's reserve lacks, and the
    // young filter keeps what was touched. A pattern of "no access for N seconds" left node 0
    // with no match once promoted pages of every temperature shared its regions, and a shift
    // never made room. The quota weights stay at sysfs's 0 (every region scores alike, address
    // order): weighting frequency and age was measured worse (docs/design-notes.md, b5)
    this.write(`${dir}/access_pattern/nr_accesses/min`, hot ? 1 : 0);
    this.write(`${dir}/access_pattern/nr_accesses/max`, NO_MAX);
    this.write(`${dir}/access_pattern/age/min`, 0);
    this.write(`${dir}/access_pattern/age/max`, NO_MAX);
    this.write(`${dir}/quotas/reset_interval_ms`, iv.resetMs);
    this.setQuota(dir, quota);
    // a filter filters OUT the pages for which its test equals `matching` (6.10–6.14 have no
    // allow filters): out go pages of any other memcg, and per direction the young or the rest
    this.write(`${dir}/filters/nr_filters`, 2);
    this.write(`${dir}/filters/0/type`, 'memcg');
    this.write(`${dir}/filters/0/memcg_path`, s.memcgPath);
    this.write(`${dir}/filters/0/matching`, 'N');
    this.write(`${dir}/filters/1/type`, 'young');
    this.write(`${dir}/filters/1/matching`, hot ? 'N' : 'Y');
  }

  /** a quota of 0 means "no limit" to DAMOS, so a stopped scheme gets a size no region has instead */
  private setQuota(dir: string, bytes: number): void {
    this.write(`${dir}/access_pattern/sz/min`, bytes > 0 ? 4096 : NEVER_SZ);
    this.write(`${dir}/quotas/bytes`, Math.max(4096, Math.floor(bytes)));
  }

  tune(quotas: number[][]): void {
    if (!this.running) return;
    this.contexts.forEach((c, k) => {
      if (!this.isOn(k)) return;
      c.schemes.forEach((_, i) => this.setQuota(`kdamonds/${k}/contexts/0/schemes/${i}`, quotas[k]?.[i] ?? 0));
      this.write(`kdamonds/${k}/state`, 'commit');
    });
  }

  private isOn(k: number): boolean {
    return this.read(`kdamonds/${k}/state`) === 'on';
  }

  stats(): (DamosStats[] | null)[] {
    return this.contexts.map((c, k) => {
      if (!this.running || !this.isOn(k)) return null;
      this.write(`kdamonds/${k}/state`, 'update_schemes_stats');
      return c.schemes.map((_, i) => {
        const f = (name: string): number => Number(this.read(`kdamonds/${k}/contexts/0/schemes/${i}/stats/${name}`));
        return { triedBytes: f('sz_tried'), appliedBytes: f('sz_applied'), quotaExceeds: f('qt_exceeds') };
      });
    });
  }

  stop(): void {
    if (!this.running) return;
    this.contexts.forEach((_, k) => {
      try {
        if (this.isOn(k)) this.write(`kdamonds/${k}/state`, 'off');
      } catch {
        // stopped by the kernel meanwhile: nothing to undo
      }
    });
    this.write('kdamonds/nr_kdamonds', 0);
    this.running = false;
    this.contexts = [];
  }
}
