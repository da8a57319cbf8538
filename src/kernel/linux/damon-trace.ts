import { closeSync, constants, existsSync, mkdirSync, openSync, readSync, rmdirSync, writeFileSync } from 'node:fs';
import { fsErrorCode } from '../../util/errors.js';

const EVENT = 'events/damon/damon_aggregated';
/**
 * Per-CPU ring size of tierd's trace instance. With the filter below an event is one accessed
 * region of one aggregation (about 48 bytes in the ring): 256 KiB holds over 5000 of them, more
 * than a kdamond at 1000 regions and 5 aggregations a second writes between two walks. If it
 * overflows, the oldest aggregations are overwritten and the walk sees a shorter window.
 */
const BUFFER_KB = 256;

/**
 * DAMON's `damon_aggregated` tracepoint, read from a tracefs instance of tierd's own: every
 * aggregation interval, each kdamond emits one event per region. With the filter
 * `nr_accesses > 0` the kernel keeps only the regions with a sampled access, so one read of
 * `trace_pipe` per walk returns what every kdamond saw since the last read, and its cost follows
 * the accessed memory. The sysfs alternative (`update_schemes_tried_regions`) waits for the next
 * aggregation in 100 ms polling steps and then costs three file reads per region.
 */
export class DamonTrace {
  private fd = -1;
  private partial = '';
  private readonly buf = Buffer.alloc(1 << 16);
  /** accessed regions per kdamond thread id since its last take: start, end, nr_accesses */
  private readonly pending = new Map<number, number[]>();

  private constructor(private readonly dir: string) {}

  /** tierd's instance under the first tracefs with DAMON's event, or why there is none. */
  static open(sysRoot: string, name = 'tierd'): DamonTrace | string {
    const root = [`${sysRoot}/kernel/tracing`, `${sysRoot}/kernel/debug/tracing`].find((r) => existsSync(`${r}/${EVENT}`));
    if (root === undefined) return `no tracefs with ${EVENT} under ${sysRoot}/kernel/tracing (mount tracefs there)`;
    const t = new DamonTrace(`${root}/instances/${name}`);
    try {
      t.create();
      return t;
    } catch (e) {
      t.close();
      return `cannot set up the trace instance ${t.dir}: ${fsErrorCode(e) ?? String(e)}`;
    }
  }

  private create(): void {
    if (!existsSync(this.dir)) mkdirSync(this.dir);
    writeFileSync(`${this.dir}/buffer_size_kb`, String(BUFFER_KB));
    writeFileSync(`${this.dir}/${EVENT}/filter`, 'nr_accesses > 0');
    writeFileSync(`${this.dir}/${EVENT}/enable`, '1');
    this.fd = openSync(`${this.dir}/trace_pipe`, constants.O_RDONLY | constants.O_NONBLOCK);
  }

  /**
   * The kdamond threads whose lines are kept from now on; lines of any other thread (an earlier
   * kdamond of ours, the kernel's DAMON_RECLAIM) are dropped as they are read.
   */
  watch(threads: number[]): void {
    this.drain();
    this.pending.clear();
    for (const t of threads) this.pending.set(t, []);
  }

  /** The accessed regions a kdamond reported since its last take, oldest first. */
  take(kdamond: number): { start: number; end: number; nrAccesses: number }[] {
    this.drain();
    const r = this.pending.get(kdamond) ?? [];
    if (this.pending.has(kdamond)) this.pending.set(kdamond, []);
    const out: { start: number; end: number; nrAccesses: number }[] = [];
    for (let i = 0; i < r.length; i += 3) out.push({ start: r[i]!, end: r[i + 1]!, nrAccesses: r[i + 2]! });
    return out;
  }

  /** Read the pipe until it is empty (EAGAIN) and file each complete line under its kdamond. */
  private drain(): void {
    if (this.fd < 0) return;
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (e) {
        if (fsErrorCode(e) === 'EAGAIN') break;
        throw e;
      }
      if (n === 0) break;
      const text = this.partial + this.buf.toString('latin1', 0, n);
      const cut = text.lastIndexOf('\n');
      this.partial = text.slice(cut + 1);
      if (cut >= 0) this.file(text.slice(0, cut));
    }
  }

  private file(lines: string): void {
    for (const line of lines.split('\n')) {
      const ev = parseAggregated(line);
      if (ev === null) continue;
      this.pending.get(ev.thread)?.push(ev.start, ev.end, ev.nrAccesses);
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.pending.clear();
    try {
      writeFileSync(`${this.dir}/${EVENT}/enable`, '0');
      rmdirSync(this.dir);
    } catch {
      // never created, or already gone: nothing of ours is left
    }
  }
}

const LINE = /-(\d+)\s+\[\d+\][^:]*:\s+damon_aggregated:\s+target_id=\d+\s+nr_regions=\d+\s+(\d+)-(\d+):\s+(\d+)\s+\d+/;

/**
 * One `damon_aggregated` line of trace_pipe, e.g.
 * `kdamond.0-1234 [001] ..... 97.2: damon_aggregated: target_id=0 nr_regions=12 4096-8192: 3 10`
 * (task-pid, cpu, flags, time, then the event's "start-end: nr_accesses age"), or null.
 */
export function parseAggregated(line: string): { thread: number; start: number; end: number; nrAccesses: number } | null {
  const m = LINE.exec(line);
  if (m === null) return null;
  return { thread: Number(m[1]), start: Number(m[2]), end: Number(m[3]), nrAccesses: Number(m[4]) };
}
