import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AccessFile, Kernel } from '../../src/kernel/types.js';
import { TierdError } from '../../src/util/errors.js';
import { openScripted } from './scripted-opener.js';

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
  const reads = openScripted(JSON.stringify({ reads: c.reads }), 1);
  const file: AccessFile = {
    pread(buf: Uint8Array, count: number, pos: number): number {
      log.push(pos);
      return reads.pread(buf, count, pos);
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
