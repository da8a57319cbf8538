import { closeSync, openSync, readSync } from 'node:fs';
import type { ProcessIdentity } from '../proc-text.js';
import { readIdentity } from './procfs.js';

/** Held files at most: one per target; beyond it, identities are read from /proc/PID/stat each time. */
const MAX_HELD = 512;

/**
 * A process's identity re-checked by a file held open, not re-read by path.
 *
 * tierd re-checks a target's identity before every walk and every move_pages batch; each check
 * opened, read, parsed and closed /proc/PID/stat, and in the VM's profile those reads were 6% of
 * tierd's CPU (1000 batches a run). A /proc/PID file holds the process it was opened for (its
 * struct pid), not the number: once that process is gone a read answers ESRCH, even after
 * the number is reused. So a read of a held /proc/PID/comm (16 bytes, where stat formats 52
 * fields) that succeeds says the process is the one it was when the file was opened, and its
 * identity is the one read then.
 *
 * The file is opened before the stat line is read: if the held process is still alive after
 * that read, it held the pid all along and the stat line is its own.
 */
export class ProcessWatch {
  private readonly held = new Map<number, { fd: number; id: ProcessIdentity }>();
  private readonly buf = Buffer.alloc(64);

  constructor(private readonly procRoot: string, private readonly maxHeld = MAX_HELD) {}

  /** pid's identity now, or null when no process has it. */
  identity(pid: number): ProcessIdentity | null {
    const h = this.held.get(pid);
    if (h !== undefined) {
      if (this.alive(h.fd)) return h.id;
      this.release(pid);
    }
    return this.watch(pid);
  }

  /** Stop holding pid's file (its target was dropped). */
  release(pid: number): void {
    const h = this.held.get(pid);
    if (h === undefined) return;
    this.held.delete(pid);
    closeSync(h.fd);
  }

  /** files held now (for tests and the fd budget) */
  get size(): number {
    return this.held.size;
  }

  /** Read the identity by path; hold a file on the process when there is room and procfs allows. */
  private watch(pid: number): ProcessIdentity | null {
    const fd = this.held.size < this.maxHeld ? this.open(pid) : null;
    const id = readIdentity(this.procRoot, pid);
    if (fd === null) return id;
    if (id !== null && this.alive(fd)) this.held.set(pid, { fd, id });
    else closeSync(fd);
    return id;
  }

  private open(pid: number): number | null {
    try {
      return openSync(`${this.procRoot}/${pid}/comm`, 'r');
    } catch {
      return null; // gone, or a procfs that hides it: the stat read answers
    }
  }

  /**
   * Does the process the file was opened for still exist? ESRCH says it is gone; any other
   * failure is treated alike, so that the identity is read again by path, which is the truth.
   */
  private alive(fd: number): boolean {
    try {
      readSync(fd, this.buf, 0, this.buf.length, 0);
      return true;
    } catch {
      return false;
    }
  }
}
