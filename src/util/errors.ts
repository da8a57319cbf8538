import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';

/**
 * Every failure tierd reports to an operator is a TierdError: a stable code, one line that
 * says what went wrong, and a hint that says how to fix it. The CLI prints
 * `tierd: <message> (<hint>)` and exits with the code's exit status.
 */
export const EXIT = {
  ok: 0,
  usage: 64,
  config: 2,
  dataErr: 65,
  noInput: 66,
  missingFeature: 4,
  permission: 77,
  software: 70,
} as const;

export type ErrorCode =
  | 'CONFIG'
  | 'USAGE'
  | 'DECODE'
  | 'NO_TRACKER'
  | 'NO_FEATURE'
  | 'PERMISSION'
  | 'PROCESS_GONE'
  | 'SCENARIO'
  | 'UNSUPPORTED_ARCH'
  | 'IO'
  | 'INTERNAL';

const EXIT_FOR: Record<ErrorCode, number> = {
  CONFIG: EXIT.config,
  USAGE: EXIT.usage,
  DECODE: EXIT.dataErr,
  NO_TRACKER: EXIT.missingFeature,
  NO_FEATURE: EXIT.missingFeature,
  PERMISSION: EXIT.permission,
  PROCESS_GONE: EXIT.noInput,
  SCENARIO: EXIT.config,
  UNSUPPORTED_ARCH: EXIT.missingFeature,
  IO: EXIT.noInput,
  INTERNAL: EXIT.software,
};

export class TierdError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  constructor(code: ErrorCode, message: string, hint = '') {
    super(message);
    this.name = 'TierdError';
    this.code = code;
    this.hint = hint;
  }
  get exitCode(): number {
    return EXIT_FOR[this.code];
  }
  /** The one line the CLI prints. */
  line(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

/** errno-carrying failure of a system call made through the kernel boundary. */
export class SyscallError extends Error {
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, errno: number, detail = '') {
    super(`${syscall} failed: ${errnoName(errno)}${detail ? ` (${detail})` : ''}`);
    this.name = 'SyscallError';
    this.errno = errno;
    this.syscall = syscall;
  }
}

/**
 * The errno values tierd acts on, from the platform's own table (os.constants.errno), so the
 * numbers follow the architecture instead of a copy of x86's.
 */
const E = constants.errno;
export const ERRNO = {
  EPERM: E.EPERM, ENOENT: E.ENOENT, ESRCH: E.ESRCH, EIO: E.EIO, E2BIG: E.E2BIG, ENOMEM: E.ENOMEM, EACCES: E.EACCES,
  EFAULT: E.EFAULT, EBUSY: E.EBUSY, ENODEV: E.ENODEV, EINVAL: E.EINVAL, ENOTTY: E.ENOTTY, ENOSPC: E.ENOSPC,
} as const;

/** "ENOMEM" for 12 (util.getSystemErrorName), or "errno N" for a number the platform does not name. */
export function errnoName(errno: number): string {
  try {
    const name = getSystemErrorName(-errno);
    return name.startsWith('Unknown') ? `errno ${errno}` : name;
  } catch {
    return `errno ${errno}`;
  }
}

/** Node's fs errors carry `code` strings; map the few we act on. */
export function fsErrorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err) {
    const c = (err as { code: unknown }).code;
    return typeof c === 'string' ? c : undefined;
  }
  return undefined;
}
