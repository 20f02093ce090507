/**
 * The security fields of a container spec: capabilities, no_new_privs, the user and groups the
 * command runs as, rlimits, namespaced sysctls and time namespace offsets. Names are validated
 * against closed lists here, so that only known tokens reach the script.
 */
import * as z from 'zod/mini';
import { SIZE_PATTERN, parseSize } from './units.js';

/** Every Linux capability, in the kernel's order: the index is the capability's number. */
export const CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID',
  'SETPCAP', 'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW',
  'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT',
  'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD',
  'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG',
  'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Docker's default capability set (moby's oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES: Capability[] = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP',
  'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

const CAPABILITY_MESSAGE = `expected a capability name such as 'NET_ADMIN' or 'CAP_NET_ADMIN' (known: ${CAPABILITIES.join(' ')})`;

/** `NET_ADMIN` or `CAP_NET_ADMIN`, normalised to `NET_ADMIN`. */
const capability = z
  // Typed as a Capability here (zod/mini's refine does not narrow a type); the refine checks it.
  .pipe(z.string({ error: CAPABILITY_MESSAGE }), z.transform((name: string) => name.replace(/^CAP_/, '') as Capability))
  .check(z.refine((name) => (CAPABILITIES as readonly string[]).includes(name), { error: CAPABILITY_MESSAGE }));

export const capabilitiesSchema = z.strictObject({
  /** Capabilities added to Docker's default set. @default [] */
  add: z._default(z.array(capability), []),
  /** Capabilities removed from Docker's default set; 'ALL' removes every one (then add what you need). @default [] */
  drop: z._default(z.array(z.union([z.literal('ALL'), capability], { error: `${CAPABILITY_MESSAGE}, or 'ALL'` })), []),
});

/**
 * rlimits the spec can set, with bash's `ulimit` flag and the unit `ulimit` counts in
 * (`kib`: 1024-byte blocks, so the spec's size is converted; `count`: taken as is).
 */
export const RLIMITS = {
  /** Open file descriptors (RLIMIT_NOFILE). */
  nofile: { flag: '-n', unit: 'count' },
  /** Processes of the user (RLIMIT_NPROC). */
  nproc: { flag: '-u', unit: 'count' },
  /** CPU seconds (RLIMIT_CPU). */
  cpu: { flag: '-t', unit: 'count' },
  /** Size of core dumps (RLIMIT_CORE). */
  core: { flag: '-c', unit: 'kib' },
  /** Size of files written (RLIMIT_FSIZE). */
  fsize: { flag: '-f', unit: 'kib' },
  /** Stack size (RLIMIT_STACK). */
  stack: { flag: '-s', unit: 'kib' },
  /** Locked memory (RLIMIT_MEMLOCK). */
  memlock: { flag: '-l', unit: 'kib' },
  /** Address space (RLIMIT_AS). */
  as: { flag: '-v', unit: 'kib' },
  /** Data segment (RLIMIT_DATA). */
  data: { flag: '-d', unit: 'kib' },
  /** Bytes in POSIX message queues (RLIMIT_MSGQUEUE). */
  msgqueue: { flag: '-q', unit: 'count' },
  /** File locks (RLIMIT_LOCKS). */
  locks: { flag: '-x', unit: 'count' },
  /** Queued signals (RLIMIT_SIGPENDING). */
  sigpending: { flag: '-i', unit: 'count' },
  /** Ceiling of the nice value, 0-40 (RLIMIT_NICE). */
  nice: { flag: '-e', unit: 'count' },
  /** Ceiling of the real-time priority (RLIMIT_RTPRIO). */
  rtprio: { flag: '-r', unit: 'count' },
} as const satisfies Record<string, { flag: string; unit: 'count' | 'kib' }>;
export type RlimitName = keyof typeof RLIMITS;

const RLIMIT_MESSAGE = "expected a whole number, a size such as '8m' for sizes, or 'unlimited'";
const rlimitAmount = z.union(
  [z.literal('unlimited'), z.int().check(z.nonnegative(), z.lte(Number.MAX_SAFE_INTEGER)), z.string().check(z.regex(SIZE_PATTERN))],
  { error: RLIMIT_MESSAGE },
);
const rlimitValue = z.union([rlimitAmount, z.strictObject({ soft: rlimitAmount, hard: rlimitAmount })], {
  error: `${RLIMIT_MESSAGE}, or { soft, hard }`,
});
export type RlimitAmount = z.output<typeof rlimitAmount>;

/** An rlimit amount in ulimit's unit, or 'unlimited'; undefined if it cannot be one. */
export function rlimitUnits(name: RlimitName, amount: RlimitAmount): string | undefined {
  if (amount === 'unlimited') return amount;
  const isSize = typeof amount === 'string';
  if (RLIMITS[name].unit === 'count') {
    return isSize ? undefined : String(amount);
  }
  const bytes = parseSize(amount);
  if (bytes === undefined || bytes % 1024 !== 0) return undefined;
  return String(bytes / 1024);
}

const soft = (v: z.output<typeof rlimitValue>) => (typeof v === 'object' ? v.soft : v);
const hard = (v: z.output<typeof rlimitValue>) => (typeof v === 'object' ? v.hard : v);

export const rlimitsSchema = z
  .strictObject(
    Object.fromEntries(Object.keys(RLIMITS).map((name) => [name, z.optional(rlimitValue)])) as Record<RlimitName, z.ZodMiniOptional<typeof rlimitValue>>,
  )
  .check(z.superRefine((limits, ctx) => {
    for (const [name, value] of Object.entries(limits) as [RlimitName, z.output<typeof rlimitValue> | undefined][]) {
      if (value === undefined) continue;
      for (const [which, amount] of [['soft', soft(value)], ['hard', hard(value)]] as const) {
        if (rlimitUnits(name, amount) === undefined) {
          const path = typeof value === 'object' ? [name, which] : [name];
          const unit = RLIMITS[name].unit === 'kib' ? "a size in whole KiB such as '8m', or bytes divisible by 1024" : 'a whole number';
          ctx.addIssue({ code: 'custom', path, message: `expected ${unit}, or 'unlimited'` });
        }
      }
      const s = rlimitUnits(name, soft(value));
      const h = rlimitUnits(name, hard(value));
      if (s !== undefined && h !== undefined && h !== 'unlimited' && (s === 'unlimited' || Number(s) > Number(h))) {
        ctx.addIssue({ code: 'custom', path: [name, 'soft'], message: 'the soft limit cannot be above the hard limit' });
      }
    }
  }));

/** Namespaced sysctls, and the namespace each needs (as runc validates them). */
const IPC_SYSCTLS = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];

/** The namespace a sysctl belongs to, or undefined if it is not namespaced (host-wide). */
export function sysctlNamespace(key: string): 'net' | 'ipc' | undefined {
  if (key.startsWith('net.')) return 'net';
  if (IPC_SYSCTLS.includes(key) || key.startsWith('fs.mqueue.')) return 'ipc';
  return undefined;
}

export const SYSCTL_KEY_PATTERN = /^[a-z][a-z0-9_]*(\.[A-Za-z0-9_-]+)+$/;

export const sysctlsSchema = z.record(
  z.string().check(z.regex(SYSCTL_KEY_PATTERN, { error: 'expected a sysctl name such as net.ipv4.ip_unprivileged_port_start' })),
  z.union([
    z.int(),
    z.string().check(
      // eslint-disable-next-line no-control-regex
      z.regex(/^[^\x00-\x08\x0a-\x1f\x7f]*$/, { error: 'a sysctl value is one line of text (tabs allowed)' }),
      z.maxLength(4096, { error: 'a sysctl value is at most 4096 bytes' }),
    ),
  ], { error: 'expected a sysctl value as a string or a whole number' }),
);

/** An id for setuid/setgid: 0 to 2^32-2 (2^32-1 is the kernel's "no change"). */
const ID_MAX = 4294967294;
export const USER_PATTERN = /^([0-9]{1,10}):([0-9]{1,10})$/;

export const userSchema = z
  .string({ error: "expected user as 'uid:gid', e.g. '1000:1000'" })
  .check(
    z.regex(USER_PATTERN, { error: "expected user as numeric 'uid:gid', e.g. '1000:1000' (names are not resolved: use the numbers from the rootfs's /etc/passwd)" }),
    z.refine((u) => u.split(':').every((id) => Number(id) <= ID_MAX), { error: `uid and gid must be at most ${ID_MAX}` }),
  );

export const groupsSchema = z.array(
  z.int({ error: 'expected a numeric group id' }).check(z.gte(0), z.lte(ID_MAX, { error: `a group id is at most ${ID_MAX}` })),
);

/** Offsets of the time namespace's clocks, in whole seconds. */
export const timeOffsetsSchema = z.strictObject({
  /** Seconds added to CLOCK_MONOTONIC inside the container. @default 0 */
  monotonic: z.optional(z.int({ error: 'expected whole seconds' }).check(z.gte(-(2 ** 31)), z.lte(2 ** 31))),
  /** Seconds added to CLOCK_BOOTTIME (the uptime) inside the container. @default 0 */
  boottime: z.optional(z.int({ error: 'expected whole seconds' }).check(z.gte(-(2 ** 31)), z.lte(2 ** 31))),
});
