/**
 * mm/page_idle.c's bitmap read and write, byte for byte: at most one page per call, ENXIO at or
 * above max_pfn, and only whole 64-frame words counted, so the last partial word below max_pfn
 * is processed but answers 0.
 */
export function kernelBitmap(maxPfn: number, idle: Set<number>): { read: (b: Uint8Array, o: number, l: number, p: number) => number; write: (b: Uint8Array, o: number, l: number, p: number) => number } {
  const enxio = (): never => {
    throw Object.assign(new Error('ENXIO: no such device or address'), { code: 'ENXIO' });
  };
  const span = (l: number, p: number): [number, number] => {
    if (p % 8 !== 0 || l % 8 !== 0) throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' });
    const pfn = p * 8;
    if (pfn >= maxPfn) enxio();
    return [pfn, Math.min(pfn + Math.min(l, 4096) * 8, maxPfn)];
  };
  return {
    read(b, o, l, p) {
      const [from, end] = span(l, p);
      const words = Math.floor((end - from) / 64);
      for (let pfn = from; pfn < from + words * 64; pfn++) {
        const byte = o + ((pfn - from) >> 3);
        if (idle.has(pfn)) b[byte]! |= 1 << (pfn % 8);
        else b[byte]! &= ~(1 << (pfn % 8));
      }
      return words * 8;
    },
    write(b, o, l, p) {
      const [from, end] = span(l, p);
      for (let pfn = from; pfn < end; pfn++) if ((b[o + ((pfn - from) >> 3)]! >> (pfn % 8)) & 1) idle.add(pfn);
      return Math.floor((end - from) / 64) * 8;
    },
  };
}
