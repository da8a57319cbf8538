import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { IdlePagesDecoder, RunBatch, DecodeError } from '../formats/idle-pages/decode.js';
import { PAGE_SIZE_OF, PAGE_TYPE_NAMES } from '../formats/idle-pages/types.js';
import { TierdError, fsErrorCode } from '../util/errors.js';
import { formatBytes, hex } from '../util/units.js';

export function decodeCommand(y: Argv): Argv {
  return y.command(
    'decode [file]',
    'print the records of an idle_pages dump (raw bytes as read from the file)',
    (a) => a.positional('file', { type: 'string', default: '-', describe: 'dump file, or - for stdin' }).option('json', { type: 'boolean', default: false, describe: 'one JSON object per record' }),
    (argv) => {
      const file = argv.file ?? '-';
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(file === '-' ? 0 : file);
      } catch (e) {
        throw new TierdError('IO', `cannot read ${file}: ${fsErrorCode(e) ?? String(e)}`, 'give a dump file or pipe one on stdin');
      }
      if (bytes.length === 0) throw new TierdError('DECODE', `${file === '-' ? 'stdin' : file} is empty: no idle_pages records`, 'give a dump made by reading /proc/PID/idle_pages (tierd decode FILE)');
      const dec = new IdlePagesDecoder({ merge: false });
      const batch = new RunBatch(Math.max(16, bytes.length));
      let failure: DecodeError | null = null;
      try {
        dec.decode(bytes, bytes.length, batch);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        failure = e;
      }
      const out: string[] = [];
      if (argv.json) {
        for (let i = 0; i < batch.length; i++) {
          const t = batch.type[i]!;
          out.push(JSON.stringify({ addr: hex(batch.start[i]!), type: PAGE_TYPE_NAMES[t], count: batch.count[i], pageSize: PAGE_SIZE_OF[t] }));
        }
        if (!failure) out.push(JSON.stringify({ end: hex(dec.cursor) }));
      } else {
        out.push(`${'ADDRESS'.padEnd(16)}  ${'TYPE'.padEnd(14)}  ${'COUNT'.padStart(5)}  ${'PAGE'.padStart(6)}  SIZE`);
        for (let i = 0; i < batch.length; i++) {
          const t = batch.type[i]!;
          out.push(`${hex(batch.start[i]!).padEnd(16)}  ${PAGE_TYPE_NAMES[t]!.padEnd(14)}  ${String(batch.count[i]).padStart(5)}  ${formatBytes(PAGE_SIZE_OF[t]!).padStart(6)}  ${formatBytes(batch.count[i]! * PAGE_SIZE_OF[t]!)}`);
        }
        if (!failure) out.push(`end ${hex(dec.cursor)}`);
      }
      process.stdout.write(out.join('\n') + '\n');
      if (failure) throw failure;
    },
  );
}
