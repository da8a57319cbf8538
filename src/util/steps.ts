import { performance } from 'node:perf_hooks';

/**
 * A long pass over every page written as a generator that yields between pieces of work (a
 * segment, a target): a caller that may block runs it in one go (`drain`), the daemon lets the
 * event loop in between pieces (`cooperate`), so /metrics and signals are answered during a
 * pass over a terabyte.
 */
export type Steps<T> = Generator<void, T, void>;

/** Pages per step of a pass: about a millisecond natively, so a 4 ms slice holds a few. */
export const STEP_PAGES = 1 << 16;

/** Run the steps to the end at once. */
export function drain<T>(steps: Steps<T>): T {
  let r = steps.next();
  while (!r.done) r = steps.next();
  return r.value;
}

/** A budget of time the event loop may be kept waiting, shared by the passes of one period. */
export class Slice {
  private since = performance.now();
  constructor(private readonly ms = 4) {}

  /** Let the event loop in if this slice is used up, and start the next one. */
  async yieldIfDue(): Promise<void> {
    if (performance.now() - this.since < this.ms) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }
}

/** Run the steps, letting the event loop in whenever the slice is used up. */
export async function cooperate<T>(steps: Steps<T>, slice = new Slice()): Promise<T> {
  let r = steps.next();
  while (!r.done) {
    await slice.yieldIfDue();
    r = steps.next();
  }
  return r.value;
}
