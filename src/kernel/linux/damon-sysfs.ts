import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { TierdError, fsErrorCode } from '../../util/errors.js';

/** The file operations DAMON's sysfs users need, so a test can stand a kernel's sysfs in for them. */
export interface SysfsIo {
  read(path: string): string;
  /** throws an Error with the errno's name as `code`, as node's fs does */
  write(path: string, value: string): void;
  exists(path: string): boolean;
  list(path: string): string[];
}

export const nodeFs: SysfsIo = {
  read: (p) => readFileSync(p, 'utf8').trim(),
  write: (p, v) => writeFileSync(p, v),
  exists: (p) => existsSync(p),
  list: (p) => readdirSync(p),
};

/** how long tierd waits out a busy DAMON sysfs in all, ms: many aggregation intervals */
const BUSY_BUDGET_MS = 2000;

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** the sysfs calls are synchronous; a few ms of blocking beats an async rewrite of every caller */
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * DAMON's sysfs handlers take damon_sysfs_lock with mutex_trylock and answer EBUSY when anyone
 * holds it, and the kdamonds take it themselves after every aggregation to serve requests; since
 * the 2025 stable fix (6.12.y, 6.17) reading a kdamond's `state` does too. EBUSY is therefore a
 * moment's contention, not a refusal: the call is tried again, backing off from 1 ms to 64 ms,
 * for up to two seconds before the error goes to the caller.
 */
export function busyRetrying(io: SysfsIo, sleep: (ms: number) => void = sleepSync): SysfsIo {
  const retry = <T>(op: () => T): T => {
    let waited = 0;
    for (let delay = 1; ; delay = Math.min(64, delay * 2)) {
      try {
        return op();
      } catch (e) {
        if (fsErrorCode(e) !== 'EBUSY' || waited >= BUSY_BUDGET_MS) throw e;
      }
      sleep(delay);
      waited += delay;
    }
  };
  return {
    read: (p) => retry(() => io.read(p)),
    write: (p, v) => retry(() => io.write(p, v)),
    exists: (p) => io.exists(p),
    list: (p) => io.list(p),
  };
}

/** the one line for a DAMON sysfs file that stayed busy past the budget */
export function busyError(what: string): TierdError {
  return new TierdError('IO', `${what}: DAMON's sysfs stayed busy (EBUSY) for ${BUSY_BUDGET_MS / 1000} s`, 'another program is driving DAMON through sysfs at the same time; stop it');
}
