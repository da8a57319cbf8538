import { existsSync, readFileSync, readdirSync } from 'node:fs';
import type { Damon, DamonAttrs, DamonRegion } from '../types.js';
import { TierdError, fsErrorCode } from '../../util/errors.js';
import { DamonTrace } from './damon-trace.js';
import { busyError, busyRetrying, nodeFs } from './damon-sysfs.js';

/**
 * tierd's own DAMON monitoring through sysfs (admin/kdamonds), vaddr operations, one kdamond per
 * target. It refuses to start where any kdamond exists (writing nr_kdamonds would tear down
 * another user's), and stop() removes only what start() made.
 *
 * Results come from the `damon_aggregated` tracepoint when tracefs has it (every accessed region
 * of every aggregation since the last walk, one read), else from a `stat` scheme's tried regions
 * (the last aggregation only, a sysfs command and three file reads per accessed region).
 */
export class LinuxDamon implements Damon {
  private readonly admin: string;
  private pids: number[] = [];
  /** each kdamond's thread id, which names its lines in the trace */
  private threads: number[] = [];
  private trace: DamonTrace | null = null;
  /** why the tracepoint is not used, when it is not */
  traceUnavailable: string | null = null;
  running = false;
  private readonly io = busyRetrying(nodeFs);

  constructor(private readonly sysRoot: string) {
    this.admin = `${sysRoot}/kernel/mm/damon/admin`;
  }

  get streaming(): boolean {
    return this.trace !== null;
  }

  source(): string {
    if (this.trace !== null) return 'DAMON results come from the damon_aggregated tracepoint (a tracefs instance named tierd)';
    return `DAMON results come from sysfs tried regions, the last aggregation only${this.traceUnavailable === null ? '' : ` (${this.traceUnavailable})`}`;
  }

  private read(rel: string): string {
    try {
      return this.io.read(`${this.admin}/${rel}`);
    } catch (e) {
      throw fsErrorCode(e) === 'EBUSY' ? busyError(`DAMON: reading ${rel}`) : e;
    }
  }

  private write(rel: string, value: string | number): void {
    try {
      this.io.write(`${this.admin}/${rel}`, String(value));
    } catch (e) {
      if (fsErrorCode(e) === 'EBUSY') throw busyError(`DAMON: writing ${value} to ${rel}`);
      throw new TierdError('NO_FEATURE', `DAMON: writing ${value} to ${rel} failed: ${fsErrorCode(e) ?? String(e)}`, 'check that DAMON is idle and the kernel has CONFIG_DAMON_VADDR');
    }
  }

  unavailable(): string | null {
    if (!existsSync(`${this.admin}/kdamonds/nr_kdamonds`)) return 'no DAMON sysfs (CONFIG_DAMON_SYSFS)';
    if (this.running) return null;
    const n = Number(this.read('kdamonds/nr_kdamonds'));
    if (n > 0) return `another DAMON user has ${n} kdamond(s); tierd will not disturb them`;
    return null;
  }

  start(pids: number[], a: DamonAttrs): void {
    if (this.running) this.stop();
    const why = this.unavailable();
    if (why !== null) throw new TierdError('NO_FEATURE', `DAMON: ${why}`, 'stop the other DAMON user, or choose another scan.tracker');
    this.openTrace();
    this.write('kdamonds/nr_kdamonds', pids.length);
    this.pids = [...pids];
    this.running = true;
    try {
      pids.forEach((pid, k) => {
        const kd = `kdamonds/${k}`;
        this.write(`${kd}/contexts/nr_contexts`, 1);
        const ctx = `${kd}/contexts/0`;
        const ops = this.read(`${ctx}/avail_operations`).split(/\s+/);
        if (!ops.includes('vaddr')) throw new TierdError('NO_FEATURE', `DAMON offers only "${ops.join(' ')}"`, 'the kernel needs CONFIG_DAMON_VADDR');
        this.write(`${ctx}/operations`, 'vaddr');
        this.write(`${ctx}/monitoring_attrs/intervals/sample_us`, a.sampleUs);
        this.write(`${ctx}/monitoring_attrs/intervals/aggr_us`, a.aggrUs);
        this.write(`${ctx}/monitoring_attrs/intervals/update_us`, a.updateUs);
        this.write(`${ctx}/monitoring_attrs/nr_regions/min`, a.minRegions);
        this.write(`${ctx}/monitoring_attrs/nr_regions/max`, a.maxRegions);
        this.write(`${ctx}/targets/nr_targets`, 1);
        this.write(`${ctx}/targets/0/pid_target`, pid);
        if (this.trace !== null) {
          this.write(`${ctx}/schemes/nr_schemes`, 0);
          this.write(`${kd}/state`, 'on');
          this.threads[k] = Number(this.read(`${kd}/pid`));
          return;
        }
        this.write(`${ctx}/schemes/nr_schemes`, 1);
        this.write(`${ctx}/schemes/0/action`, 'stat');
        // the access pattern's ranges default to 0..0, which matches nothing: open them, except
        // that only regions with a sampled access are listed. The rest of every VMA is idle
        // (vaddr regions cover all of them), so a walk reads a file per accessed region, not
        // four per region.
        this.write(`${ctx}/schemes/0/access_pattern/sz/max`, '18446744073709551615');
        this.write(`${ctx}/schemes/0/access_pattern/nr_accesses/min`, 1);
        this.write(`${ctx}/schemes/0/access_pattern/nr_accesses/max`, '4294967295');
        this.write(`${ctx}/schemes/0/access_pattern/age/max`, '4294967295');
        this.write(`${kd}/state`, 'on');
      });
      this.trace?.watch(this.threads);
    } catch (e) {
      this.stop();
      throw e;
    }
  }

  /** the tracepoint when tracefs offers it; the reason it does not is kept for `tierd topology` */
  private openTrace(): void {
    if (this.trace !== null) return;
    const t = DamonTrace.open(this.sysRoot);
    if (typeof t === 'string') this.traceUnavailable = t;
    else this.trace = t;
  }

  regions(pid: number): DamonRegion[] | null {
    const k = this.pids.indexOf(pid);
    if (k < 0 || !this.running) return null;
    const kd = `kdamonds/${k}`;
    if (this.read(`${kd}/state`) !== 'on') return null; // its target exited
    if (this.trace !== null) return this.trace.take(this.threads[k]!);
    this.write(`${kd}/state`, 'update_schemes_tried_regions');
    const dir = `${this.admin}/${kd}/contexts/0/schemes/0/tried_regions`;
    const out: DamonRegion[] = [];
    for (const r of readdirSync(dir)) {
      if (!/^\d+$/.test(r)) continue;
      const f = (name: string): number => Number(readFileSync(`${dir}/${r}/${name}`, 'utf8').trim());
      out.push({ start: f('start'), end: f('end'), nrAccesses: f('nr_accesses') });
    }
    return out.sort((x, y) => x.start - y.start);
  }

  stop(): void {
    if (!this.running) return;
    this.pids.forEach((_, k) => {
      try {
        this.write(`kdamonds/${k}/state`, 'off');
      } catch {
        // already stopped by the kernel (its target exited): EINVAL, nothing to undo
      }
    });
    this.write('kdamonds/nr_kdamonds', 0);
    this.running = false;
    this.pids = [];
    this.threads = [];
    this.trace?.watch([]);
  }

  /** stop, and remove the trace instance too (the daemon is leaving) */
  close(): void {
    this.stop();
    this.trace?.close();
    this.trace = null;
  }
}
