import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';

export interface TouchChild {
  proc: ChildProcess;
  pid: number;
  pages: number[];
  untouched: number;
  thp: number | null;
  stop(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL('./touch-child.js', import.meta.url));

/** Start the touch child and wait for its address report. Ends only the process it started. */
export async function startTouchChild(pages = 64): Promise<TouchChild> {
  const proc = spawn(process.execPath, [SCRIPT, String(pages)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let text = '';
  proc.stdout!.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: string) => {
      text += d;
      if (text.includes('\n')) resolve();
    });
    proc.on('exit', (code) => reject(new Error(`touch child exited with ${code}`)));
  });
  const info = JSON.parse(text) as { pid: number; pages: number[]; untouched: number; thp: number | null };
  return {
    proc,
    ...info,
    async stop(): Promise<void> {
      if (proc.exitCode !== null) return;
      proc.stdin!.end();
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await once(proc, 'exit');
      clearTimeout(t);
    },
  };
}
