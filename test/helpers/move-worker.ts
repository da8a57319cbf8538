import { parentPort, workerData } from 'node:worker_threads';
import { LinuxKernel } from '../../src/kernel/linux/linux-kernel.js';

const { pid, pages } = workerData as { pid: number; pages: number[] };
const addrs = Float64Array.from(pages);
const status = new Int32Array(addrs.length).fill(-999);
const rc = new LinuxKernel().movePages(pid, addrs.length, addrs, null, status, 0);
parentPort!.postMessage({ rc, status: [...status] });
