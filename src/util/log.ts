import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LogOptions {
  level?: LevelWithSilent;
  format?: 'json' | 'pretty' | 'auto';
  /** Where JSON lines go; stderr keeps stdout free for command output. */
  destination?: 1 | 2;
}

/**
 * JSON lines by default; a compact human form when asked or when the stream is a TTY.
 * The pretty form is built in (one line per event) so the runtime needs no transport worker.
 */
export function createLogger(opts: LogOptions = {}): Logger {
  const dest = opts.destination ?? 2;
  const stream = dest === 1 ? process.stdout : process.stderr;
  const pretty = opts.format === 'pretty' || (opts.format !== 'json' && stream.isTTY === true);
  const level = opts.level ?? 'info';
  if (!pretty) return pino({ level, base: { name: 'tierd' } }, pino.destination({ fd: dest, sync: true }));
  return pino({ level, base: undefined, timestamp: false }, {
    write(line: string): void {
      stream.write(prettyLine(line));
    },
  });
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

export function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { level, msg, ...rest } = o;
  const lvl = LEVELS[Number(level)] ?? String(level);
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  return `${lvl.padEnd(5)} ${String(msg ?? '')}${fields ? '  ' + fields : ''}\n`;
}

export const silentLogger: Logger = pino({ level: 'silent' });
