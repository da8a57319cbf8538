import { z } from 'zod';
import { parseDuration, parseRate, parseSize, sizeUnitHint } from './units.js';

function unit(kind: string, parse: (v: string | number) => number | undefined, example: string) {
  return z.unknown().transform((v, ctx) => {
    if (typeof v !== 'string' && typeof v !== 'number') {
      ctx.addIssue({ code: 'custom', message: `expected a ${kind} like "${example}", found ${v === null || v === undefined ? 'nothing' : JSON.stringify(v)}` });
      return z.NEVER;
    }
    const n = parse(v);
    if (n === undefined) {
      const hint = typeof v === 'string' && kind !== 'duration' ? sizeUnitHint(v) : undefined;
      ctx.addIssue({ code: 'custom', message: hint ?? `expected a ${kind} like "${example}", found ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });
}

/** bytes, from "256MiB", "1GiB", "4KiB" or a number of bytes */
export const zSize = unit('size', parseSize, '256MiB');
/** milliseconds, from "500ms", "10s", "20m", "1h" or a number of seconds */
export const zDuration = unit('duration', parseDuration, '500ms');
/** bytes per second, from "256MiB/s" */
export const zRate = unit('rate', parseRate, '256MiB/s');
