const EMPTY = -1;

/**
 * A hash map from addresses (non-negative integers below 2^53) to non-negative int32 values, in
 * typed arrays. V8's Map keeps a user-space address (above 2^31) as a boxed heap number and
 * hashes it slowly: the move history's look-ups were two thirds of a plan's time with 90 000
 * recent moves. Open addressing with linear probing, at most half full; deletion shifts the
 * following entries back, so there are no tombstones.
 */
export class AddrMap {
  private keys: Float64Array;
  private vals: Int32Array;
  private bits: number;
  private mask: number;
  size = 0;

  constructor(capacity = 1024) {
    this.bits = Math.max(4, Math.ceil(Math.log2(capacity * 2)));
    this.mask = (1 << this.bits) - 1;
    this.keys = new Float64Array(1 << this.bits).fill(EMPTY);
    this.vals = new Int32Array(1 << this.bits);
  }

  /** The value of addr, or -1. */
  get(addr: number): number {
    const keys = this.keys;
    for (let i = this.home(addr); ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === addr) return this.vals[i]!;
      if (k === EMPTY) return -1;
    }
  }

  set(addr: number, value: number): void {
    const keys = this.keys;
    let i = this.home(addr);
    while (keys[i] !== EMPTY && keys[i] !== addr) i = (i + 1) & this.mask;
    if (keys[i] === EMPTY) {
      if (2 * (this.size + 1) > keys.length) {
        this.grow();
        this.set(addr, value);
        return;
      }
      keys[i] = addr;
      this.size++;
    }
    this.vals[i] = value;
  }

  delete(addr: number): void {
    const keys = this.keys;
    let i = this.home(addr);
    while (keys[i] !== addr) {
      if (keys[i] === EMPTY) return;
      i = (i + 1) & this.mask;
    }
    // shift back every following entry whose home is not between the hole and itself
    for (let j = (i + 1) & this.mask; keys[j] !== EMPTY; j = (j + 1) & this.mask) {
      const h = this.home(keys[j]!);
      const between = i <= j ? h > i && h <= j : h > i || h <= j;
      if (between) continue;
      keys[i] = keys[j]!;
      this.vals[i] = this.vals[j]!;
      i = j;
    }
    keys[i] = EMPTY;
    this.size--;
  }

  /** Fibonacci hashing of the address's two 32-bit halves (page addresses have 12 zero bits). */
  private home(addr: number): number {
    const lo = addr >>> 0;
    const hi = (addr / 4294967296) >>> 0;
    return Math.imul((lo >>> 12) ^ (lo << 20) ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1) >>> (32 - this.bits);
  }

  private grow(): void {
    const keys = this.keys;
    const vals = this.vals;
    this.bits++;
    this.mask = (1 << this.bits) - 1;
    this.keys = new Float64Array(1 << this.bits).fill(EMPTY);
    this.vals = new Int32Array(1 << this.bits);
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY) this.set(keys[i]!, vals[i]!);
  }
}
