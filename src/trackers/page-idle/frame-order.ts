/**
 * The units of a chunk in ascending frame order, so that bitmap and kpageflags runs read the
 * frames in sequence: order[k] is the unit with the k-th lowest frame and pfn[k] its frame. A
 * two-pass radix sort on the frame's offset from the chunk's lowest (16 bits a pass); a
 * comparison sort took 48 ms per 256 Ki frames.
 */
export class FrameOrder {
  readonly order: Uint32Array;
  readonly pfn: Float64Array;
  private readonly order2: Uint32Array;
  private readonly keys: Uint32Array;
  private readonly keys2: Uint32Array;
  private readonly count = new Uint32Array(65536);

  constructor(capacity: number) {
    this.order = new Uint32Array(capacity);
    this.order2 = new Uint32Array(capacity);
    this.keys = new Uint32Array(capacity);
    this.keys2 = new Uint32Array(capacity);
    this.pfn = new Float64Array(capacity);
  }

  /** Sort units [0, n) by their frame, unitPfn[u]. */
  sort(unitPfn: Float64Array, n: number): void {
    let min = Infinity;
    let max = 0;
    for (let u = 0; u < n; u++) {
      min = Math.min(min, unitPfn[u]!);
      max = Math.max(max, unitPfn[u]!);
    }
    const order = this.order;
    if (max - min >= 2 ** 32) {
      // frames more than 16 TiB apart in one chunk: rare enough for a comparison sort
      for (let u = 0; u < n; u++) order[u] = u;
      order.subarray(0, n).sort((x, y) => unitPfn[x]! - unitPfn[y]!);
    } else {
      const key = this.keys;
      for (let u = 0; u < n; u++) {
        key[u] = unitPfn[u]! - min;
        order[u] = u;
      }
      this.pass(n, 0, key, order, this.keys2, this.order2);
      this.pass(n, 16, this.keys2, this.order2, key, order);
    }
    for (let k = 0; k < n; k++) this.pfn[k] = unitPfn[order[k]!]!;
  }

  /** One stable counting pass on 16 bits of key from `shift`: (key, val) → (keyOut, valOut). */
  private pass(n: number, shift: number, key: Uint32Array, val: Uint32Array, keyOut: Uint32Array, valOut: Uint32Array): void {
    const count = this.count.fill(0);
    for (let i = 0; i < n; i++) count[(key[i]! >>> shift) & 0xffff]!++;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = count[d]!;
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const at = count[(key[i]! >>> shift) & 0xffff]!++;
      keyOut[at] = key[i]!;
      valOut[at] = val[i]!;
    }
  }
}
