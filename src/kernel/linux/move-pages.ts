import { SyscallError } from '../../util/errors.js';
import { loadNative, SYS_move_pages } from './ffi.js';

/**
 * move_pages(2) with reused buffers: addresses arrive as JS numbers in a Float64Array and are
 * written into a BigUint64Array through a Uint32Array view (no BigInt per page).
 */
export class MovePagesCall {
  private addrs = new BigUint64Array(1024);
  private words = new Uint32Array(this.addrs.buffer);

  call(pid: number, count: number, pages: Float64Array, nodes: Int32Array | null, status: Int32Array, flags: number): number {
    if (count > pages.length || count > status.length || (nodes !== null && count > nodes.length)) {
      throw new RangeError(`move_pages: count ${count} exceeds the arrays`);
    }
    const n = loadNative();
    if (this.addrs.length < count) {
      this.addrs = new BigUint64Array(Math.max(count, this.addrs.length * 2));
      this.words = new Uint32Array(this.addrs.buffer);
    }
    const w = this.words;
    for (let i = 0; i < count; i++) {
      const a = pages[i]!;
      w[2 * i] = a >>> 0;
      w[2 * i + 1] = (a / 4294967296) >>> 0;
    }
    const rc = n.movePages(SYS_move_pages!, pid, count, this.addrs, nodes, status, flags);
    if (rc < 0) throw new SyscallError('move_pages', n.errno());
    return rc;
  }
}
