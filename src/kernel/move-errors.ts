import { ERRNO, TierdError, errnoName } from '../util/errors.js';
import { MPOL_MF_MOVE_ALL } from './types.js';

/**
 * What a whole-call move_pages errno means for an operator (docs/spec/kernel-facts.md §1.1), as the error
 * tierd reports. ENOMEM/ENODEV/ESRCH are handled by the mover; the rest stop the daemon.
 */
export function explainMoveError(errno: number, pid: number, flags: number): TierdError {
  switch (errno) {
    case ERRNO.EPERM:
      return (flags & MPOL_MF_MOVE_ALL) !== 0
        ? new TierdError('PERMISSION', `move_pages(pid ${pid}, MPOL_MF_MOVE_ALL): EPERM`, 'MOVE_ALL needs CAP_SYS_NICE: grant it, or set migrate.moveAll: false')
        : new TierdError('PERMISSION', `move_pages(pid ${pid}): EPERM, no ptrace-read access to the process, or a seccomp filter forbids move_pages (a container's default profile)`, "run tierd as root or grant it CAP_SYS_PTRACE and CAP_SYS_NICE; in a container, the seccomp profile of the README's \"Container\" section");
    case ERRNO.EACCES:
      return new TierdError('PERMISSION', `move_pages(pid ${pid}): EACCES, the target node is outside the process's cpuset`, "add the node to the cpuset's cpuset.mems, or leave the process out of targets");
    case ERRNO.ESRCH:
      return new TierdError('PROCESS_GONE', `move_pages(pid ${pid}): the process is gone`);
    case ERRNO.ENODEV:
      return new TierdError('NO_FEATURE', `move_pages(pid ${pid}): ENODEV, a target node is offline or has no memory`, 'check `tierd topology`; the node map in the config may be stale');
    case ERRNO.EINVAL:
      return new TierdError('NO_FEATURE', `move_pages(pid ${pid}, flags 0x${flags.toString(16)}): EINVAL`, 'the kernel rejects these flags (SW_YOUNG needs the 2018 patches): set migrate.swYoung: false');
    default:
      return new TierdError('INTERNAL', `move_pages(pid ${pid}): ${errnoName(errno)}`);
  }
}
