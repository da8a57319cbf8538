import { closeSync, existsSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { TierdError, fsErrorCode } from '../util/errors.js';
import type { BinnedPeriod } from './bins.js';

/**
 * The journal: one JSON object per line. The first line of every file is the header; then one
 * record per period and target. A record's size depends on the number of bins, not on the
 * target's memory (about 1.3 KB with 128 bins), so a file grows by the period, and at `maxBytes`
 * it is renamed to `PATH.1` (replacing the previous one) and a new file begins.
 */
export interface JournalHeader {
  tierd: 'journal';
  version: 1;
  bins: number;
  walks: number;
  /** wall clock (ms since the epoch) when the daemon started */
  started: number;
}

export interface JournalRecord extends BinnedPeriod {
  /** seconds since the daemon started (its clock: simulated time on the simulated host) */
  t: number;
  period: number;
  pid: number;
  comm: string;
  /** the trackable ranges the bins cut, [start, end) pairs laid end to end */
  ranges: [number, number][];
  /** bytes the period moved up and down for this target */
  promoted: number;
  demoted: number;
  /** the simulated host's hit ratio at the period's end; absent on a real host */
  hit?: number;
}

export class JournalWriter {
  private fd = -1;
  private size = 0;

  constructor(
    readonly path: string,
    private readonly header: JournalHeader,
    private readonly maxBytes: number,
  ) {
    this.open();
  }

  private open(): void {
    try {
      // a journal kept with other bins (or not a journal) would mix records: it becomes PATH.1
      if (existsSync(this.path) && !this.sameHeader()) renameSync(this.path, `${this.path}.1`);
      this.fd = openSync(this.path, 'a');
      this.size = statSync(this.path).size;
    } catch (e) {
      throw new TierdError('CONFIG', `journal.path: cannot write ${this.path}: ${fsErrorCode(e) ?? String(e)}`, 'choose a writable file; the systemd unit gives tierd /var/lib/tierd');
    }
    if (this.size === 0) this.line(this.header);
  }

  private sameHeader(): boolean {
    const fd = openSync(this.path, 'r');
    try {
      const buf = Buffer.alloc(4096);
      const first = buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, 0)).split('\n')[0]!;
      if (first === '') return true; // empty: the header is written below
      const h = JSON.parse(first) as Partial<JournalHeader>;
      return h.tierd === 'journal' && h.version === 1 && h.bins === this.header.bins;
    } catch {
      return false;
    } finally {
      closeSync(fd);
    }
  }

  append(r: JournalRecord): void {
    if (this.size >= this.maxBytes) this.rotate();
    this.line(r);
  }

  private rotate(): void {
    closeSync(this.fd);
    renameSync(this.path, `${this.path}.1`);
    this.open();
  }

  private line(o: object): void {
    const text = JSON.stringify(o) + '\n';
    writeSync(this.fd, text);
    this.size += Buffer.byteLength(text);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** A journal file's text → header and records; a line that is not one says where and why. */
export function parseJournal(text: string, name = 'journal'): { header: JournalHeader; records: JournalRecord[] } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new TierdError('USAGE', `${name}: empty file`, 'a journal starts with tierd\'s header line: point at the file journal.path names');
  const header = parseLine(lines[0]!, name, 1) as Partial<JournalHeader>;
  if (header.tierd !== 'journal' || header.version !== 1 || !Number.isInteger(header.bins)) {
    throw new TierdError('USAGE', `${name}:1: not a tierd journal (version 1) header`, 'point at the file journal.path names');
  }
  const records = lines.slice(1).map((l, i) => {
    const r = parseLine(l, name, i + 2) as Partial<JournalRecord>;
    const bins = (a: unknown): boolean => Array.isArray(a) && a.length === header.bins;
    if (typeof r.pid !== 'number' || typeof r.t !== 'number' || !bins(r.heat) || !Array.isArray(r.tiers) || r.tiers.length === 0 || !r.tiers.every(bins) || !Array.isArray(r.ranges)) {
      throw new TierdError('USAGE', `${name}:${i + 2}: not a journal record (pid, t, ranges, and ${header.bins} heat bins and ${header.bins} per tier)`, 'the file was cut or edited: keep the lines before this one');
    }
    return r as JournalRecord;
  });
  return { header: header as JournalHeader, records };
}

function parseLine(l: string, name: string, n: number): unknown {
  try {
    return JSON.parse(l);
  } catch {
    throw new TierdError('USAGE', `${name}:${n}: not JSON`, 'the file was cut or edited: keep the lines before this one');
  }
}
