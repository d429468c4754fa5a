/**
 * Where the CPU goes during a benchmark phase: user+system seconds of named processes (from
 * /proc/<pid>/stat) and of the whole machine (from /proc/stat), so a figure limited by CPU can say
 * by whose. On a shared 2-core machine "other" (everything not named) matters as much as ours.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

/** User + system CPU seconds of one process; 0 once it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime (fields 14, 15)
  } catch {
    return 0;
  }
}

/** Busy (non-idle, non-iowait) CPU seconds of the whole machine, summed over cores. */
export function machineCpuSeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = v;
  return (user + nice + system + irq + softirq + steal) / TICKS;
}

/** The pid of a process whose command line contains every one of `parts` (e.g. DynamoDB Local's java on its port). */
export function findPid(parts: readonly string[]): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd[0] !== 'sh' && parts.every((p) => cmd.includes(p) || cmd.some((c) => c.endsWith(p)))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

export interface CpuSplit {
  readonly seconds: number;
  /** CPU seconds per named process, plus `other` (machine minus the named) and `machine`. */
  readonly cpu: Record<string, number>;
}

/** Starts measuring; `stop()` returns the CPU seconds each named process and the machine used meanwhile. */
export function startCpuMeter(pids: Readonly<Record<string, number | undefined>>): { stop(): CpuSplit } {
  const t0 = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, pid ? processCpuSeconds(pid) : 0]));
  const machine0 = machineCpuSeconds();
  return {
    stop() {
      const cpu: Record<string, number> = {};
      let named = 0;
      for (const [name, pid] of Object.entries(pids)) {
        cpu[name] = pid ? processCpuSeconds(pid) - before[name]! : 0;
        named += cpu[name]!;
      }
      cpu.machine = machineCpuSeconds() - machine0;
      cpu.other = Math.max(0, cpu.machine - named);
      return { seconds: (performance.now() - t0) / 1000, cpu };
    },
  };
}

/** "broker 12.3 s (95 %), agent ..." for a log line: CPU seconds and share of one core over the phase. */
export function describeCpu(split: CpuSplit): string {
  return Object.entries(split.cpu)
    .map(([name, s]) => `${name} ${s.toFixed(1)} s (${Math.round((100 * s) / split.seconds)} %)`)
    .join(', ');
}
