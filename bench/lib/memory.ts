/**
 * Peak resident memory of this process: the kernel's high-water mark (`VmHWM` in
 * /proc/self/status, exact) where there is one, and in any case the largest of the RSS samples
 * taken every 20 ms (for systems without procfs).
 */
import { readFileSync } from 'node:fs';

let sampledPeak = process.memoryUsage.rss();
const timer = setInterval(() => {
  sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss());
}, 20);
timer.unref();

function highWaterMark(): number | null {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

/** Peak RSS in bytes since the process started. */
export function peakRss(): number {
  sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss());
  return Math.max(sampledPeak, highWaterMark() ?? 0);
}
