import { hex, formatBytes } from '../util/units.js';
import { REASON_NAMES } from '../planner/plan.js';

export interface PlannedMove {
  pid: number;
  comm: string;
  start: number;
  pages: number;
  bytes: number;
  pageSize: number;
  from: number;
  to: number;
  direction: 'promote' | 'demote';
  reason: string;
  count: number;
  walks: number;
}

/**
 * Collects the moves the mover would make (dry-run) or made, coalescing contiguous pages with
 * the same process, source, target, reason and count into one line.
 */
export class MoveLog {
  readonly lines: PlannedMove[] = [];

  add(pid: number, comm: string, addr: number, pageSize: number, from: number, to: number, dir: number, reason: number, count: number, walks: number): void {
    const last = this.lines[this.lines.length - 1];
    const direction = dir === 0 ? 'promote' : 'demote';
    if (last && last.pid === pid && last.start + last.bytes === addr && last.pageSize === pageSize && last.from === from && last.to === to && last.direction === direction && last.count === count && last.reason === REASON_NAMES[reason]) {
      last.pages++;
      last.bytes += pageSize;
      return;
    }
    this.lines.push({ pid, comm, start: addr, pages: 1, bytes: pageSize, pageSize, from, to, direction, reason: REASON_NAMES[reason] ?? 'hot', count, walks });
  }

  clear(): void {
    this.lines.length = 0;
  }

  json(): string[] {
    return this.lines.map((l) => JSON.stringify({ pid: l.pid, comm: l.comm, start: hex(l.start), pages: l.pages, bytes: l.bytes, pageSize: l.pageSize, from: l.from, to: l.to, direction: l.direction, reason: l.reason, count: l.count, walks: l.walks }));
  }

  table(): string {
    const rows = [['PID', 'COMM', 'RANGE', 'SIZE', 'FROM→TO', 'REASON']];
    for (const l of this.lines) {
      rows.push([String(l.pid), l.comm, `${hex(l.start)}-${hex(l.start + l.bytes)}`, formatBytes(l.bytes), `${l.from}→${l.to}`, `${l.reason} ${l.count}/${l.walks}`]);
    }
    const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    return rows.map((r) => r.map((x, c) => (c === rows[0]!.length - 1 ? x : x.padEnd(w[c]!))).join('  ')).join('\n') + '\n';
  }
}
