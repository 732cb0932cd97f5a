/** CPU time of other processes, read from /proc (Linux). */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null; // gone
  }
}

/** User + system CPU time of one process, in milliseconds (resolution 1000 / CLK_TCK ms). */
export function cpuMs(pid: number): number {
  const f = statFields(pid);
  // After the name: state(0) ppid(1) ... utime(11) stime(12).
  return f ? ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK : 0;
}

/** The pid and its direct children (nginx's master and workers). */
export function withChildren(pid: number): number[] {
  const out = [pid];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (f && Number(f[1]) === pid) out.push(Number(entry));
  }
  return out;
}

/** CPU milliseconds of a set of processes (children looked up at each call: workers may restart). */
export function treeCpuMs(pid: number): number {
  return withChildren(pid).reduce((sum, p) => sum + cpuMs(p), 0);
}
