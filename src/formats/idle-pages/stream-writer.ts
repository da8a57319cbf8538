import { PageType, writeSetHva } from './types.js';

/**
 * Writes observations as an idle_pages byte stream (spec §1): the canonical form every tracker
 * hands to the heat table, so the upstream trackers share the decoder-checked path.
 */
export class StreamWriter {
  buf: Uint8Array;
  length = 0;
  private next = -1; // address after the last record
  private lastType = -1;

  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
  }

  clear(): void {
    this.length = 0;
    this.next = -1;
    this.lastType = -1;
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }

  /** `pages` pages of `type` from `addr` (4 KiB types: 4 KiB pages; PMD types: 2 MiB pages). */
  add(addr: number, type: number, pages: number): void {
    const size = type === PageType.PMD_ACCESSED || type === PageType.PMD_IDLE ? 2097152 : 4096;
    let left = pages;
    let a = addr;
    while (left > 0) {
      this.room(10);
      const b = this.buf;
      if (a !== this.next) {
        this.length = writeSetHva(b, this.length, a);
        this.lastType = -1;
      }
      const last = this.length - 1;
      if (this.lastType === type && (b[last]! & 15) < 15) {
        const take = Math.min(left, 15 - (b[last]! & 15));
        b[last] = b[last]! + take;
        left -= take;
        a += take * size;
      } else {
        const take = Math.min(left, 15);
        b[this.length++] = (type << 4) | take;
        this.lastType = type;
        left -= take;
        a += take * size;
      }
      this.next = a;
    }
  }
}
