/**
 * What the container's process may do: its capability sets, no_new_privs, user and groups,
 * rlimits, and the paths of /proc and /sys it must not see or change. All decided here; the
 * script passes `setprivArgs` to setpriv(1) as they are.
 */
import { CAPABILITIES, DEFAULT_CAPABILITIES, RLIMITS, rlimitUnits, type Capability, type RlimitName } from '../spec/security.js';
import type { ContainerSpec } from '../spec/schema.js';

/** The OCI runtime spec's default masked paths (runc, Docker): hidden behind /dev/null or an empty tmpfs. */
export const MASKED_PROC_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi',
];
/** Masked paths below a sysfs mount, relative to it. */
export const MASKED_SYSFS_PATHS = ['/firmware', '/devices/virtual/powercap'];
/** The OCI default read-only paths: bound onto themselves, read-only. */
export const READONLY_PROC_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface Rlimit {
  name: RlimitName;
  /** bash's `ulimit` flag, e.g. `-n`. */
  flag: string;
  /** In ulimit's unit (count, or KiB for sizes), or `unlimited`. */
  soft: string;
  hard: string;
}

export interface SecurityModel {
  /** The capabilities kept (bounding, permitted, effective), by setpriv's lowercase names, in kernel order. */
  capabilities: string[];
  /** Those capabilities as /proc/PID/status shows CapBnd: 16 hex digits. */
  capabilityMask: string;
  noNewPrivileges: boolean;
  uid: number;
  gid: number;
  groups: number[];
  /** Options of setpriv(1), from the fields above. */
  setprivArgs: string[];
  rlimits: Rlimit[];
}

export function resolveCapabilities(spec: Pick<ContainerSpec, 'capabilities'>): Capability[] {
  const { add, drop } = spec.capabilities;
  const kept = new Set<Capability>(drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !(drop as string[]).includes(c)));
  for (const c of add) kept.add(c);
  return CAPABILITIES.filter((c) => kept.has(c));
}

/** The bit mask of capabilities, as the kernel prints it in /proc/PID/status. */
export function capabilityMask(caps: readonly Capability[]): string {
  let mask = 0n;
  for (const c of caps) mask |= 1n << BigInt(CAPABILITIES.indexOf(c));
  return mask.toString(16).padStart(16, '0');
}

export function resolveSecurity(spec: ContainerSpec): SecurityModel {
  const caps = resolveCapabilities(spec);
  const capabilities = caps.map((c) => c.toLowerCase());
  const [uid, gid] = (spec.user ?? '0:0').split(':').map(Number) as [number, number];
  const groups = [...new Set(spec.groups)];
  const setprivArgs = [
    `--bounding-set=${['-all', ...capabilities.map((c) => `+${c}`)].join(',')}`,
    '--inh-caps=-all',
    '--ambient-caps=-all',
    `--reuid=${uid}`,
    `--regid=${gid}`,
    groups.length > 0 ? `--groups=${groups.join(',')}` : '--clear-groups',
  ];
  if (spec.noNewPrivileges) setprivArgs.push('--no-new-privs');
  const rlimits = (Object.keys(RLIMITS) as RlimitName[]).flatMap((name): Rlimit[] => {
    const value = spec.rlimits[name];
    if (value === undefined) return [];
    const [soft, hard] = typeof value === 'object' ? [value.soft, value.hard] : [value, value];
    return [{ name, flag: RLIMITS[name].flag, soft: rlimitUnits(name, soft)!, hard: rlimitUnits(name, hard)! }];
  });
  return {
    capabilities,
    capabilityMask: capabilityMask(caps),
    noNewPrivileges: spec.noNewPrivileges,
    uid,
    gid,
    groups,
    setprivArgs,
    rlimits,
  };
}
