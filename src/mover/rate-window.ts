/**
 * A sliding one-second window per direction: a batch may start only when the bytes started in
 * the last second plus its own stay within the rate, so the limit holds over every 1 s window,
 * not only on average (a token bucket would allow twice the rate across a refill boundary).
 */
export class RateWindow {
  private readonly t: number[] = [];
  private readonly b: number[] = [];
  private head = 0;
  private inWindow = 0;

  constructor(public bytesPerSec: number) {}

  private expire(nowMs: number): void {
    while (this.head < this.t.length && this.t[this.head]! <= nowMs - 1000) {
      this.inWindow -= this.b[this.head]!;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.t.length) {
      this.t.splice(0, this.head);
      this.b.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Milliseconds to wait before `bytes` may start at nowMs (0 = now). */
  waitFor(nowMs: number, bytes: number): number {
    this.expire(nowMs);
    if (this.inWindow + bytes <= this.bytesPerSec) return 0;
    // one batch above the whole rate (a single huge page at a low rate) goes alone into an empty
    // window: waiting for room that can never come would stall the mover for good
    if (bytes > this.bytesPerSec && this.inWindow === 0) return 0;
    let need = this.inWindow + bytes - this.bytesPerSec;
    for (let i = this.head; i < this.t.length; i++) {
      need -= this.b[i]!;
      if (need <= 0) return Math.max(0, this.t[i]! + 1000 - nowMs) + 1e-6;
    }
    return 1000;
  }

  record(nowMs: number, bytes: number): void {
    this.t.push(nowMs);
    this.b.push(bytes);
    this.inWindow += bytes;
  }
}

/**
 * The largest bytes moved in any 1 s window so far, kept as moves happen: memory bounded by the
 * moves of the last second, however long the daemon runs (what the limits promise, reported).
 */
export class PeakRate {
  private readonly t: number[] = [];
  private readonly b: number[] = [];
  private sum = 0;
  peak = 0;

  record(nowMs: number, bytes: number): void {
    this.t.push(nowMs);
    this.b.push(bytes);
    this.sum += bytes;
    while (this.t[0]! <= nowMs - 1000) {
      this.t.shift();
      this.sum -= this.b.shift()!;
    }
    this.peak = Math.max(this.peak, this.sum);
  }

  /** entries held: at most the moves of the last second */
  get size(): number {
    return this.t.length;
  }
}
