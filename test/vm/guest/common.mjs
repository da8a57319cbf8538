// Shared by the guest suites: verdict lines and the static C workload.
import { spawn } from 'node:child_process';

/** One VERDICT line per check; finish() prints the summary and exits non-zero on a failure. */
export function verdicts(label = '') {
  const tag = label ? ` [${label}]` : '';
  let failed = 0;
  return {
    verdict(ok, what) {
      console.log(`VERDICT ${ok ? 'PASS' : 'FAIL'}${tag} ${what}`);
      if (!ok) failed++;
    },
    finish() {
      console.log(`VERDICTS${tag} ${failed === 0 ? 'ALL PASS' : `${failed} FAILED`}`);
      process.exit(failed === 0 ? 0 : 1);
    },
  };
}

/** Start test/vm/guest/workload with args (in a cgroup v2 path when given); resolves with its first stdout line (JSON) and the process. */
export function startWorkload(args, cgroup = null) {
  // in a cgroup: the shell joins it and execs, so every page is charged to it from the start
  const p = cgroup === null
    ? spawn('test/vm/guest/workload', args, { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn('sh', ['-c', `echo $$ > /sys/fs/cgroup${cgroup}/cgroup.procs && exec "$0" "$@"`, 'test/vm/guest/workload', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let t = '';
    p.stdout.on('data', (d) => {
      t += d;
      if (t.includes('\n')) resolve({ proc: p, ...JSON.parse(t) });
    });
    p.on('exit', (c) => reject(new Error(`workload exited ${c}`)));
  });
}
