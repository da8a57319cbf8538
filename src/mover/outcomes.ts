export const OUTCOMES = ['moved', 'already', 'gone', 'shared', 'busy', 'failed', 'no_room', 'not_attempted', 'pid_reused'] as const;
export type OutcomeName = (typeof OUTCOMES)[number];
export const O = Object.fromEntries(OUTCOMES.map((n, i) => [n, i])) as Record<OutcomeName, number>;

/** Pages per outcome, plus bytes moved per (direction, from, to). */
export interface MoveTotals {
  outcomes: number[];
  moved: Map<string, { dir: number; from: number; to: number; pages: number; bytes: number }>;
  promotedBytes: number;
  demotedBytes: number;
  /** bytes moved up and down per target pid */
  byPid: Map<number, [number, number]>;
  calls: number;
  pingPongs: number;
  rateLimitedMs: [number, number];
}

export function emptyTotals(): MoveTotals {
  return { outcomes: new Array<number>(OUTCOMES.length).fill(0), moved: new Map(), promotedBytes: 0, demotedBytes: 0, byPid: new Map(), calls: 0, pingPongs: 0, rateLimitedMs: [0, 0] };
}
