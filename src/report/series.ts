import type { JournalRecord } from '../journal/journal.js';
import { TierdError } from '../util/errors.js';

/** One target's journal as columns in time, at most `maxColumns` (neighbouring periods merged). */
export interface Series {
  pid: number;
  comm: string;
  bins: number;
  /** per column: its start time (s) */
  t: number[];
  /** per column, per bin: mean access count (% of N walks) and % of its bytes on the fastest tier */
  heat: number[][];
  fast: number[][];
  hotFast: number[];
  hotSlow: number[];
  promoted: number[];
  demoted: number[];
  /** the simulated host's hit ratio, or null on a real host */
  hit: (number | null)[];
  /** the ranges of the last record, to name bin addresses */
  ranges: [number, number][];
  binBytes: number;
}

/** The pids in a journal, the one with most records first. */
export function pidsOf(records: JournalRecord[]): number[] {
  const n = new Map<number, number>();
  for (const r of records) n.set(r.pid, (n.get(r.pid) ?? 0) + 1);
  return [...n].sort((a, b) => b[1] - a[1]).map(([pid]) => pid);
}

export function seriesOf(records: JournalRecord[], bins: number, pid: number | undefined, maxColumns: number): Series {
  const pids = pidsOf(records);
  const want = pid ?? pids[0];
  const rs = records.filter((r) => r.pid === want).sort((a, b) => a.t - b.t);
  if (rs.length === 0) {
    throw new TierdError('USAGE', want === undefined ? 'the journal has no records yet' : `--pid ${want}: not in the journal`, pids.length > 0 ? `pids in it: ${pids.join(', ')}` : 'let the daemon run a period with a target first');
  }
  const per = Math.ceil(rs.length / maxColumns);
  const s: Series = { pid: want!, comm: rs[0]!.comm, bins, t: [], heat: [], fast: [], hotFast: [], hotSlow: [], promoted: [], demoted: [], hit: [], ranges: rs[rs.length - 1]!.ranges, binBytes: rs[rs.length - 1]!.binBytes };
  for (let i = 0; i < rs.length; i += per) {
    const g = rs.slice(i, i + per);
    const mean = (f: (r: JournalRecord) => number): number => g.reduce((a, r) => a + f(r), 0) / g.length;
    s.t.push(g[0]!.t);
    s.heat.push(Array.from({ length: bins }, (_, b) => Math.round(mean((r) => r.heat[b]!))));
    s.fast.push(Array.from({ length: bins }, (_, b) => Math.round(mean((r) => r.tiers[0]![b]!))));
    s.hotFast.push(mean((r) => r.hotFast));
    s.hotSlow.push(mean((r) => r.hotSlow));
    s.promoted.push(g.reduce((a, r) => a + r.promoted, 0));
    s.demoted.push(g.reduce((a, r) => a + r.demoted, 0));
    const hits = g.filter((r) => r.hit !== undefined);
    s.hit.push(hits.length > 0 ? hits[hits.length - 1]!.hit! : null);
  }
  return s;
}

/** The address where bin b starts: its offset into the ranges laid end to end. */
export function binAddress(s: Series, b: number): number {
  let off = b * s.binBytes;
  for (const [start, end] of s.ranges) {
    if (off < end - start) return start + off;
    off -= end - start;
  }
  return s.ranges.length > 0 ? s.ranges[s.ranges.length - 1]![1] : 0;
}
