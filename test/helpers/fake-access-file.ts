import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AccessFile, Kernel } from '../../src/kernel/types.js';
import { ERRNO, SyscallError, TierdError } from '../../src/util/errors.js';
import { hexBytes } from './array-space.js';

interface TraceCase {
  ranges: [string, string][];
  reads: Record<string, string>;
}

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/idle-pages-trace.json', import.meta.url));

/** An idle_pages file that answers each pread with the bytes the fixture recorded for that offset. */
export function traceKernel(name: string, fixture = FIXTURE): { kernel: Pick<Kernel, 'openIdlePages'>; ranges: Float64Array; log: number[]; closed: () => number } {
  const all = JSON.parse(readFileSync(fixture, 'utf8')) as Record<string, TraceCase>;
  const c = all[name];
  if (!c) throw new Error(`no trace ${name}`);
  const log: number[] = [];
  let closes = 0;
  const file: AccessFile = {
    pread(buf: Uint8Array, count: number, pos: number): number {
      log.push(pos);
      const ans = c.reads[pos.toString(16)];
      if (ans === undefined) return 0;
      if (ans === 'ESRCH') throw new SyscallError('read', ERRNO.ESRCH);
      const bytes = hexBytes(ans);
      if (bytes.length > count) throw new Error(`fixture answer longer than count ${count}`);
      buf.set(bytes);
      return bytes.length;
    },
    close(): void {
      closes++;
    },
  };
  return {
    kernel: {
      openIdlePages(pid: number): AccessFile {
        if (pid === 0) throw new TierdError('PROCESS_GONE', 'gone');
        return file;
      },
    },
    ranges: Float64Array.from(c.ranges.flat().map((h) => parseInt(h, 16))),
    log,
    closed: () => closes,
  };
}
