import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Argv } from 'yargs';
import type { Config } from '../config/schema.js';
import { JournalWriter, parseJournal } from '../journal/journal.js';
import { seriesOf } from '../report/series.js';
import { renderSvg } from '../report/svg.js';
import { renderText } from '../report/text.js';
import { TierdError, fsErrorCode } from '../util/errors.js';

/** The journal the config asks for, or null (run, simulate). */
export function openJournal(config: Config): JournalWriter | null {
  const j = config.journal;
  if (j.path === undefined) return null;
  return new JournalWriter(j.path, { tierd: 'journal', version: 1, bins: j.bins, walks: config.scan.walks, started: Date.now() }, j.maxSize);
}

/** The command that draws a journal, as this tierd was started (installed, or from a checkout). */
export function drawHint(path: string): string {
  const me = process.argv[1] ?? 'tierd';
  const cli = me.endsWith('.js') ? `node ${relative(process.cwd(), me)}` : 'tierd';
  const svg = `${path.replace(/\.journal$/, '')}.svg`;
  return `journal: ${path}; draw it with: ${cli} report ${path} --out ${svg}`;
}

/** columns in the picture: a longer journal merges neighbouring periods */
const MAX_COLUMNS = 240;

export function reportCommand(y: Argv): Argv {
  return y.command(
    'report <journal>',
    'draw a journal: access heatmap, placement and moves over time',
    (a) =>
      a
        .positional('journal', { type: 'string', demandOption: true, describe: 'the file journal.path names' })
        .option('pid', { type: 'number', describe: 'the target to draw (default: the one with most periods)' })
        .option('out', { type: 'string', describe: 'write here instead of standard output' })
        .option('format', { choices: ['svg', 'json', 'text'] as const, describe: 'default: svg with --out FILE.svg, else text' }),
    (argv) => {
      if (argv.pid !== undefined && !(Number.isInteger(argv.pid) && argv.pid > 0)) throw new TierdError('USAGE', `--pid: ${argv.pid} is not a process id`, 'e.g. --pid 1234 (tierd report prints the pids when it is not in the journal)');
      let text: string;
      try {
        text = readFileSync(argv.journal, 'utf8');
      } catch (e) {
        throw new TierdError('USAGE', `${argv.journal}: cannot read: ${fsErrorCode(e) ?? String(e)}`, 'point at the file journal.path (or --journal) names');
      }
      const { header, records } = parseJournal(text, argv.journal);
      const series = seriesOf(records, header.bins, argv.pid, MAX_COLUMNS);
      const format = argv.format ?? (argv.out?.endsWith('.svg') ? 'svg' : 'text');
      const body = format === 'svg' ? renderSvg(series) : format === 'json' ? JSON.stringify(series) + '\n' : renderText(series);
      if (argv.out === undefined) process.stdout.write(body);
      else {
        try {
          writeFileSync(argv.out, body);
        } catch (e) {
          throw new TierdError('USAGE', `--out ${argv.out}: cannot write: ${fsErrorCode(e) ?? String(e)}`, 'choose a writable path');
        }
        process.stderr.write(`${argv.out}: ${format}, ${series.t.length} columns of ${series.bins} bins (pid ${series.pid})\n`);
      }
    },
  );
}
