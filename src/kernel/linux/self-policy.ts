import { errnoName } from '../../util/errors.js';
import { loadNative } from './ffi.js';

const MPOL_PREFERRED = 1;
/** 5.15+: prefer any of several nodes; older kernels answer EINVAL and get MPOL_PREFERRED */
const MPOL_PREFERRED_MANY = 5;

/** A node mask as the kernel reads it, `words` unsigned longs, bit n = node n. */
function nodeMask(nodes: number[], words: number): BigUint64Array {
  const mask = new BigUint64Array(words);
  for (const n of nodes) mask[Math.floor(n / 64)]! |= 1n << BigInt(n % 64);
  return mask;
}

/**
 * The calling thread's memory policy prefers `prefer`, and the pages this process has on `from`
 * move there. Threads started before the call keep their policy (Node's helper threads allocate
 * little). Returns null, or why not.
 */
export function placeSelf(prefer: number[], from: number[]): string | null {
  if (prefer.length === 0) return 'no node to prefer';
  const n = loadNative();
  const setMempolicy = n.setMempolicy;
  const migratePages = n.migratePages;
  if (setMempolicy === null || migratePages === null) return `no set_mempolicy/migrate_pages syscall numbers for ${process.arch}`;
  const words = Math.floor(Math.max(...prefer, ...from) / 64) + 1;
  // maxnode counts bits, and the kernel ignores the last one (a long-standing off-by-one)
  const maxnode = words * 64 + 1;
  if (setMempolicy(MPOL_PREFERRED_MANY, nodeMask(prefer, words), maxnode) < 0) {
    if (setMempolicy(MPOL_PREFERRED, nodeMask([prefer[0]!], words), maxnode) < 0) return `set_mempolicy: ${errnoName(n.errno())}`;
  }
  if (from.length === 0) return null;
  // pid 0 = this process; pages that cannot move stay (a positive return), which is no error
  if (migratePages(0, maxnode, nodeMask(from, words), nodeMask(prefer, words)) < 0) return `migrate_pages: ${errnoName(n.errno())}`;
  return null;
}
