// Run by user-proof.mjs as another user: what tierd does to a target, through tierd's own kernel
// layer. Prints one JSON line: idle_pages bytes read, and a page moved to node 1 and back.
import { LinuxKernel } from '../../../dist/src/kernel/linux/linux-kernel.js';
import { MPOL_MF_MOVE } from '../../../dist/src/kernel/types.js';

const pid = Number(process.argv[2]);
const k = new LinuxKernel();
const out = { uid: process.getuid(), maps: 0, idleBytes: 0, movedTo: null, error: null };
try {
  const vmas = k.maps(pid) ?? [];
  out.maps = vmas.length;
  const big = vmas.filter((v) => v.write && !v.shared).sort((a, b) => b.end - b.start - (a.end - a.start))[0];
  const f = k.openIdlePages(pid, 0);
  const buf = new Uint8Array(64 * 1024);
  out.idleBytes = f.pread(buf, buf.length, big.start);
  f.close();
  const addrs = Float64Array.of(big.start + 1024 * 4096);
  const status = new Int32Array(1);
  k.movePages(pid, 1, addrs, Int32Array.of(1), status, MPOL_MF_MOVE);
  k.movePages(pid, 1, addrs, null, status, 0);
  out.movedTo = status[0];
} catch (e) {
  out.error = e instanceof Error ? e.message : String(e);
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(out.error === null ? 0 : 1);
