/**
 * Resource limits as cgroup file writes, for both hierarchies. The script decides at run time
 * which list to apply (it detects v1, v2 or hybrid); every value is computed here.
 */
import type { LimitsSpec } from '../spec/schema.js';
import { formatBytes, parseSize } from '../spec/units.js';

/** The CFS period the kernel uses by default, in microseconds. */
export const CPU_PERIOD_US = 100_000;

/** One write into a cgroup: `value` goes into `file` of `controller`'s directory. */
export interface CgroupWrite {
  controller: CgroupController;
  file: string;
  value: string;
  /** A line for the reader of the script: why this write is there. */
  why: string;
}

export type CgroupController = 'memory' | 'cpu' | 'cpuacct' | 'pids' | 'io';

/** The v1 hierarchy calls the io controller blkio. */
export const V1_HIERARCHY: Record<CgroupController, string> = { memory: 'memory', cpu: 'cpu', cpuacct: 'cpuacct', pids: 'pids', io: 'blkio' };

/**
 * cgroup v2 cpu.weight (1..10000) from v1 cpu.shares (2..262144), as crun documents it:
 * weight = 1 + ((shares - 2) * 9999) / 262142.
 */
export function sharesToWeight(shares: number): number {
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

/** The inverse of `sharesToWeight`, for v1 hosts: the smallest shares that map back to weight. */
export function weightToShares(weight: number): number {
  return Math.ceil(2 + ((weight - 1) * 262142) / 9999);
}

/** CPUs (0.25 = a quarter of one core) as a CFS quota per period, in microseconds. */
export function cpusToQuota(cpus: number): number {
  return Math.max(1000, Math.round(cpus * CPU_PERIOD_US));
}

function percentOfOneCore(cpus: number): string {
  return `${Math.round(cpus * 10000) / 100}% of one CPU`;
}

/** The writes for a cgroup v2 host, in the order they should happen. */
export function cgroupV2Writes(limits: LimitsSpec): CgroupWrite[] {
  const writes: CgroupWrite[] = [];
  if (limits.memory !== undefined) {
    const bytes = parseSize(limits.memory)!;
    writes.push({ controller: 'memory', file: 'memory.max', value: String(bytes), why: `Hard memory limit: ${formatBytes(bytes)}; the OOM killer acts above it` });
  }
  if (limits.memoryHigh !== undefined) {
    const bytes = parseSize(limits.memoryHigh)!;
    writes.push({ controller: 'memory', file: 'memory.high', value: String(bytes), why: `Reclaim hard above ${formatBytes(bytes)}` });
  }
  if (limits.cpus !== undefined) {
    writes.push({ controller: 'cpu', file: 'cpu.max', value: `${cpusToQuota(limits.cpus)} ${CPU_PERIOD_US}`, why: `CPU limit: ${percentOfOneCore(limits.cpus)}` });
  }
  if (limits.cpuWeight !== undefined) {
    writes.push({ controller: 'cpu', file: 'cpu.weight', value: String(limits.cpuWeight), why: `CPU weight ${limits.cpuWeight} against siblings (default 100)` });
  }
  if (limits.pids !== undefined) {
    writes.push({ controller: 'pids', file: 'pids.max', value: String(limits.pids), why: `At most ${limits.pids} processes and threads` });
  }
  for (const io of limits.io ?? []) {
    const parts = [
      io.readBps !== undefined ? `rbps=${parseSize(io.readBps)}` : '',
      io.writeBps !== undefined ? `wbps=${parseSize(io.writeBps)}` : '',
      io.readIops !== undefined ? `riops=${io.readIops}` : '',
      io.writeIops !== undefined ? `wiops=${io.writeIops}` : '',
    ].filter(Boolean);
    writes.push({ controller: 'io', file: 'io.max', value: `${io.device} ${parts.join(' ')}`, why: `Block I/O caps on device ${io.device}` });
  }
  return writes;
}

/** The writes for a cgroup v1 (or hybrid) host, in the order they should happen. */
export function cgroupV1Writes(limits: LimitsSpec): CgroupWrite[] {
  const writes: CgroupWrite[] = [];
  if (limits.memory !== undefined) {
    const bytes = parseSize(limits.memory)!;
    writes.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: String(bytes), why: `Hard memory limit: ${formatBytes(bytes)}; the OOM killer acts above it` });
  }
  if (limits.memoryHigh !== undefined) {
    const bytes = parseSize(limits.memoryHigh)!;
    writes.push({ controller: 'memory', file: 'memory.soft_limit_in_bytes', value: String(bytes), why: `Soft limit: reclaimed first above ${formatBytes(bytes)}` });
  }
  if (limits.cpus !== undefined) {
    writes.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(CPU_PERIOD_US), why: 'CFS period of 100 ms' });
    writes.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(cpusToQuota(limits.cpus)), why: `CPU limit: ${percentOfOneCore(limits.cpus)}` });
  }
  if (limits.cpuWeight !== undefined) {
    const shares = weightToShares(limits.cpuWeight);
    writes.push({ controller: 'cpu', file: 'cpu.shares', value: String(shares), why: `CPU weight ${limits.cpuWeight} as v1 shares (crun's conversion)` });
  }
  if (limits.pids !== undefined) {
    writes.push({ controller: 'pids', file: 'pids.max', value: String(limits.pids), why: `At most ${limits.pids} processes and threads` });
  }
  for (const io of limits.io ?? []) {
    const caps: [string, number | undefined][] = [
      ['blkio.throttle.read_bps_device', io.readBps !== undefined ? parseSize(io.readBps) : undefined],
      ['blkio.throttle.write_bps_device', io.writeBps !== undefined ? parseSize(io.writeBps) : undefined],
      ['blkio.throttle.read_iops_device', io.readIops],
      ['blkio.throttle.write_iops_device', io.writeIops],
    ];
    for (const [file, value] of caps) {
      if (value !== undefined) writes.push({ controller: 'io', file, value: `${io.device} ${value}`, why: `Block I/O cap on device ${io.device}` });
    }
  }
  return writes;
}

/** Controllers asked for even without a limit: they measure the container (`stats`) and find
 * every process in it (`stop`, `rm`). cpuacct exists on cgroup v1 only, where it counts CPU
 * time; a v2 host counts it in every cgroup's cpu.stat, and the script skips cpuacct there. */
export const MEASURING_CONTROLLERS: CgroupController[] = ['memory', 'pids', 'cpuacct'];

/**
 * Controllers the container's cgroup lives in. Those with a limit are required (the script
 * stops if the host lacks them); the measuring ones are always asked for, and optional.
 */
export function cgroupControllers(limits: LimitsSpec): { name: CgroupController; required: boolean }[] {
  const limited = new Set(cgroupV2Writes(limits).map((w) => w.controller));
  const all: CgroupController[] = ['memory', 'cpu', 'cpuacct', 'pids', 'io'];
  return all
    .filter((c) => limited.has(c) || MEASURING_CONTROLLERS.includes(c))
    .map((name) => ({ name, required: limited.has(name) }));
}

/** The limits as values: what runtimes and orchestrators take instead of cgroup files. */
export interface ResourcesModel {
  /** Hard memory limit in bytes. */
  memory: number | null;
  /** Soft limit in bytes (v1 soft_limit_in_bytes, OCI memory.reservation). */
  memoryHigh: number | null;
  /** CPUs as the spec gives them, and as a CFS quota per period (microseconds). */
  cpus: number | null;
  cpuQuota: number | null;
  cpuPeriod: number | null;
  /** cgroup v2 weight, and the v1 shares it converts to. */
  cpuWeight: number | null;
  cpuShares: number | null;
  pids: number | null;
  io: { major: number; minor: number; readBps: number | null; writeBps: number | null; readIops: number | null; writeIops: number | null }[];
}

export function resolveResources(limits: LimitsSpec): ResourcesModel {
  const bytes = (s: string | number | undefined) => (s === undefined ? null : parseSize(s)!);
  return {
    memory: bytes(limits.memory),
    memoryHigh: bytes(limits.memoryHigh),
    cpus: limits.cpus ?? null,
    cpuQuota: limits.cpus === undefined ? null : cpusToQuota(limits.cpus),
    cpuPeriod: limits.cpus === undefined ? null : CPU_PERIOD_US,
    cpuWeight: limits.cpuWeight ?? null,
    cpuShares: limits.cpuWeight === undefined ? null : weightToShares(limits.cpuWeight),
    pids: limits.pids ?? null,
    io: (limits.io ?? []).map((io) => {
      const [major, minor] = io.device.split(':').map(Number) as [number, number];
      return {
        major, minor,
        readBps: bytes(io.readBps), writeBps: bytes(io.writeBps), readIops: io.readIops ?? null, writeIops: io.writeIops ?? null,
      };
    }),
  };
}
