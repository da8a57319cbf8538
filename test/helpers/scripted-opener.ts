import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AccessFile } from '../../src/kernel/types.js';
import { ERRNO, SyscallError, TierdError } from '../../src/util/errors.js';
import { hexBytes } from './array-space.js';

/** What a scripted idle_pages file does; passed to a read worker as JSON. */
export interface ReadScript {
  /** file offset (hex) → the stream a read there returns (hex), 'ESRCH', or absent for EOF */
  reads: Record<string, string>;
  /**
   * opening writes a file named by the pid in `dir`; each read first waits up to waitMs for
   * `count` such files (that many files open at once) and fails with EIO if they never are
   */
  rendezvous?: { dir: string; count: number; waitMs: number };
  /** each read first blocks the thread this long, as a kernel page-table walk does */
  blockMs?: number;
  /** a read of this pid's file ends the thread (process.exit in a worker), as a crash would */
  exitOnReadOf?: number;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A read worker's opener for tests (Kernel.idlePagesOpener's shape): pid 0 is gone. */
export function openScripted(json: string, pid: number): AccessFile {
  const s = JSON.parse(json) as ReadScript;
  if (pid === 0) throw new TierdError('PROCESS_GONE', `process ${pid} is gone`);
  const r = s.rendezvous;
  if (r) writeFileSync(join(r.dir, String(pid)), '');
  return {
    pread(buf: Uint8Array, count: number, pos: number): number {
      if (s.exitOnReadOf === pid) process.exit(3);
      if (s.blockMs) sleepSync(s.blockMs);
      if (r) {
        for (let t = 0; t < r.waitMs && readdirSync(r.dir).length < r.count; t += 10) sleepSync(10);
        if (readdirSync(r.dir).length < r.count) throw new SyscallError('read', ERRNO.EIO, `only ${readdirSync(r.dir).length} of ${r.count} files open`);
      }
      const ans = s.reads[pos.toString(16)];
      if (ans === undefined) return 0;
      if (ans === 'ESRCH') throw new SyscallError('read', ERRNO.ESRCH);
      const bytes = hexBytes(ans);
      if (bytes.length > count) throw new Error(`script answer longer than count ${count}`);
      buf.set(bytes);
      return bytes.length;
    },
    close(): void {},
  };
}
