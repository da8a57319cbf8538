import type { Segment, States } from './segment.js';

/**
 * The address spans one walk reported pages in, ascending [start, end) pairs. The ingest loop
 * extends the open span (`start`, `end`) itself and calls `close` at a discontinuity; at the
 * walk's end `sweep` gives every tracked page outside the spans one more miss.
 */
export class WalkCoverage {
  private spans = new Float64Array(256);
  private n = 0;
  /** the open span; end < start when there is none */
  start = 0;
  end = -1;

  reset(): void {
    this.n = 0;
    this.start = 0;
    this.end = -1;
  }

  /** Keep the open span, if any, and open none. */
  close(): void {
    if (this.end > this.start) {
      if (2 * this.n + 2 > this.spans.length) {
        const grown = new Float64Array(this.spans.length * 2);
        grown.set(this.spans);
        this.spans = grown;
      }
      this.spans[2 * this.n] = this.start;
      this.spans[2 * this.n + 1] = this.end;
      this.n++;
    }
    this.start = 0;
    this.end = -1;
  }

  /** Every page of `segments` (sorted) outside the closed spans takes the `miss` transition. */
  sweep(segments: readonly Segment[], miss: States): void {
    const cov = this.spans;
    const n = this.n;
    let j = 0;
    for (const seg of segments) {
      const size = seg.pageSize;
      const segEnd = seg.end;
      let pos = seg.start;
      while (pos < segEnd) {
        while (j < n && cov[2 * j + 1]! <= pos) j++;
        if (j < n && cov[2 * j]! <= pos) {
          pos = Math.min(segEnd, cov[2 * j + 1]!);
          continue;
        }
        const gapEnd = j < n ? Math.min(segEnd, cov[2 * j]!) : segEnd;
        const st = seg.states;
        const from = Math.floor((pos - seg.start) / size);
        const to = Math.ceil((gapEnd - seg.start) / size);
        for (let i = from; i < to; i++) st[i] = miss[st[i]!]!;
        seg.touchRange(from, to);
        pos = gapEnd;
      }
    }
  }
}
