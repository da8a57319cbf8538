// npm run bench:vm:walk — what the skim and the read workers buy on a real kernel (our kernel in
// the 2-node VM; issue "Scale to terabyte hosts"). Two fresh boots of the trimmed kernel:
//   skim-proof with its cost judged: a 2 GiB process, 5% hot, walked with and without
//     SCAN_SKIM_IDLE, SKIM_REPS pairs (9) timed, the median ratio checked against SKIM_GATE (5);
//   walk-scale with one host thread per vCPU (TCG_THREAD=multi): event-loop delay, one worker
//     against two, /metrics latency and the daemon's CPU per GiB·period.
// Timing lives here, not in test:vm: the machine is shared and noisy, a timed verdict in CI
// fails on a slow minute. Prints the guests' SKIM_COST, SCALE_RESULT and VERDICT lines; exits 1
// if a verdict failed, 2 if a boot gave none. LOGS=dir keeps each boot's console.
import { bootVm } from './vm-boot.js';

const reps = Number(process.env.SKIM_REPS ?? 9);
const gate = Number(process.env.SKIM_GATE ?? 5);

interface Boot { name: string; suite: string; env: Record<string, string> }

const BOOTS: Boot[] = [
  { name: 'skim', suite: 'skim-proof', env: { GUEST_ARGS: `tierd.skim_reps=${reps} tierd.skim_gate=${gate}` } },
  { name: 'scale', suite: 'walk-scale', env: { TCG_THREAD: 'multi' } },
];

/** One boot; returns the lines worth printing and whether every verdict passed (null: no verdict). */
function boot(b: Boot): { lines: string[]; pass: boolean | null } {
  const t0 = Date.now();
  const text = bootVm({ KERNELS: 'trimmed', GUEST_SUITES: b.suite, ...b.env }, `walk-${b.name}`);
  const lines = text.split('\n').filter((l) => /SKIM_COST|SCALE_RESULT|VERDICT/.test(l));
  const summary = lines.find((l) => l.startsWith('VERDICTS'));
  process.stderr.write(`[bench:vm:walk] ${b.name}: ${summary ?? 'no verdict'} in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  return { lines, pass: summary ? summary.includes('ALL PASS') : null };
}

function main(): void {
  const only = process.env.WALK_BOOTS?.split(/\s+/).filter(Boolean);
  let code = 0;
  for (const b of BOOTS.filter((x) => !only || only.includes(x.name))) {
    const { lines, pass } = boot(b);
    process.stdout.write(lines.join('\n') + '\n');
    if (pass === null) code = 2;
    else if (!pass && code === 0) code = 1;
  }
  process.exit(code);
}

main();
