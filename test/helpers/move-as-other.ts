/** Run as an unprivileged user: one move_pages on a root process; prints the error tierd reports. */
import { LinuxKernel } from '../../src/kernel/linux/linux-kernel.js';
import { explainMoveError } from '../../src/kernel/move-errors.js';
import { MPOL_MF_MOVE } from '../../src/kernel/types.js';
import { SyscallError } from '../../src/util/errors.js';

const pid = Number(process.argv[2]);
const addr = Number(process.argv[3]);
try {
  new LinuxKernel().movePages(pid, 1, Float64Array.of(addr), Int32Array.of(0), new Int32Array(1), MPOL_MF_MOVE);
  process.stdout.write('moved: no error\n');
} catch (e) {
  if (e instanceof SyscallError) process.stdout.write(explainMoveError(e.errno, pid, MPOL_MF_MOVE).line() + '\n');
  else throw e;
}
