/**
 * The container spec: the one source of truth for the TypeScript types (`ContainerSpecInput`,
 * `ContainerSpec`), the JSON Schema that editors use for JSON and YAML specs, and the checks
 * run before anything is rendered. Values are validated here, never escaped later: a name that
 * could not be a cgroup directory or a hostname is refused with the field's path.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { SIZE_PATTERN, parseSize } from './units.js';
import { capabilitiesSchema, groupsSchema, rlimitsSchema, sysctlNamespace, sysctlsSchema, timeOffsetsSchema, userSchema } from './security.js';
import { checkNetwork, networkMode, networkSchema } from './network.js';
import { checkUserns, usernsSchema } from './userns.js';

// zod/mini, not zod's classic API: the same zod core, so the same checks, issues, types and JSON
// Schema, but each schema is made with less work and the bundle holds less of zod. Every schema
// below is made at each start of the command line: a cold `unshared build` of a JSON spec took
// ~22 ms less (bench/compile-compare.sh; the bundle went from 444 KB to 398 KB).
// zod/mini loads no locale: English gives the messages of the checks that carry none of ours
// (cpuWeight's range, a field of the wrong type), as classic zod's did. A locale the program
// using the library chose first is kept.
if (!z.config().localeError) z.config(en());

/** Every namespace the kernel offers, by the name `unshare(1)` uses for it. */
export const NAMESPACES = ['pid', 'net', 'mount', 'uts', 'ipc', 'user', 'cgroup', 'time'] as const;
export type Namespace = (typeof NAMESPACES)[number];

/** Docker's default set, plus the cgroup namespace that Docker uses on cgroup v2 hosts. */
export const DEFAULT_NAMESPACES: Namespace[] = ['pid', 'mount', 'uts', 'ipc', 'net', 'cgroup'];

/** Docker's default PATH, used when the spec's env does not set one. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Names bash keeps for itself (read-only, arrays, or rewritten on exec). The script's last
 * step runs in bash, so these cannot reach the container byte for byte and are refused.
 */
export const RESERVED_ENV_NAMES = [
  'BASHOPTS', 'BASH_ARGC', 'BASH_ARGV', 'BASH_LINENO', 'BASH_SOURCE', 'BASH_VERSINFO',
  'EUID', 'PIPESTATUS', 'PPID', 'SHELLOPTS', 'SHLVL', 'UID', '_',
] as const;

// Patterns shared with the generated script's own run-time checks.
export const CONTAINER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/** Also a POSIX ERE: the script checks UNSHARED_CGROUP_PARENT against the same pattern. */
export const CGROUP_PARENT_ERE = '^[A-Za-z0-9_.@:-]+(/[A-Za-z0-9_.@:-]+)*$';
const CGROUP_PARENT_PATTERN = new RegExp(CGROUP_PARENT_ERE);
const HOSTNAME_PATTERN = /^(?=.{1,64}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** Also a POSIX ERE: the script checks `exec -e NAME=VALUE` against the same pattern. */
export const ENV_NAME_ERE = '^[A-Za-z_][A-Za-z0-9_]*$';
const ENV_NAME_PATTERN = new RegExp(ENV_NAME_ERE);
const DEVICE_PATTERN = /^[0-9]+:[0-9]+$/;
const MODE_PATTERN = /^[0-7]{3,4}$/;
/** A named volume: a directory name under the data directory's volumes/ (as Docker's volume names). */
export const VOLUME_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** An image reference: [registry/]repository[:tag][@digest], lowercase repository path, as the distribution spec allows. */
export const IMAGE_PATTERN = /^(?=.{1,255}$)[A-Za-z0-9.-]+(:[0-9]+)?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@[a-z0-9]+:[a-f0-9]{32,})?$/;

/** Restart policies, as systemd spells them (Kubernetes: Never, OnFailure, Always). */
export const RESTART_POLICIES = ['no', 'on-failure', 'always'] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

/** Text that a shell argument can carry: no NUL byte, no unpaired UTF-16 surrogate. */
function text(what: string) {
  return z.string({ error: `expected ${what} as a string` }).check(
    z.refine((s) => !s.includes('\0'), { error: 'cannot contain a NUL byte' }),
    z.refine((s) => s.isWellFormed(), { error: 'must be valid Unicode text (no unpaired surrogates)' }),
  );
}

/** An absolute, normalised path: no `.` or `..` components, no doubled or trailing slash. */
function absolutePath(what: string) {
  return text(what).check(
    z.refine((p) => p.startsWith('/'), { error: 'must be an absolute path (start with /)' }),
    z.refine((p) => p === '/' || p.split('/').slice(1).every((c) => c !== '' && c !== '.' && c !== '..'), {
      error: "must be a normalised path: no '.', '..', '//' or trailing '/'",
    }),
    z.refine((p) => p.length <= 4096, { error: 'is longer than PATH_MAX (4096 bytes)' }),
  );
}

/** A mount point inside the container; `/` itself is the rootfs and cannot be a mount target. */
const containerTarget = absolutePath('the target').check(z.refine((p) => p !== '/', {
  error: 'the target cannot be / (the rootfs itself)',
}));

const SIZE_MESSAGE = "expected a size such as '128m', '1g', '512KiB', or a number of bytes";
const sizeText = z.string().check(
  z.regex(SIZE_PATTERN, { error: SIZE_MESSAGE }),
  z.refine((s) => !SIZE_PATTERN.test(s) || parseSize(s) !== undefined, { error: 'the size is too large: at most 2^53-1 bytes (8 PiB)' }),
);
const size = z.union([z.int().check(z.nonnegative()), sizeText], { error: SIZE_MESSAGE });

const positiveSize = size.check(z.refine((s) => (parseSize(s) ?? 1) > 0, { error: 'the size must be more than 0' }));

const ioLimit = z
  .strictObject({
    /** The block device as `major:minor`, as `lsblk -o NAME,MAJ:MIN` prints it. */
    device: z.string().check(z.regex(DEVICE_PATTERN, { error: "expected a block device as 'major:minor', e.g. '8:0'" })),
    /** Read bandwidth cap, e.g. `'10m'` for 10 MiB/s. */
    readBps: z.optional(positiveSize),
    /** Write bandwidth cap, e.g. `'10m'` for 10 MiB/s. */
    writeBps: z.optional(positiveSize),
    /** Read operations per second. */
    readIops: z.optional(z.int().check(z.positive())),
    /** Write operations per second. */
    writeIops: z.optional(z.int().check(z.positive())),
  })
  .check(z.refine((io) => io.readBps !== undefined || io.writeBps !== undefined || io.readIops !== undefined || io.writeIops !== undefined, {
    error: 'set at least one of readBps, writeBps, readIops, writeIops',
  }));

const limits = z
  .strictObject({
    /** Hard memory limit (cgroup v2 memory.max, v1 memory.limit_in_bytes); the OOM killer acts above it. @default unlimited */
    memory: z.optional(
      size.check(z.refine((s) => (parseSize(s) ?? Infinity) >= 4 * 1024 * 1024, { error: 'memory must be at least 4m: the container could not start below that' })),
    ),
    /** Soft limit: above it the kernel reclaims hard (v2 memory.high, v1 memory.soft_limit_in_bytes). @default unlimited */
    memoryHigh: z.optional(positiveSize),
    /** CPU time as a number of CPUs, e.g. 0.25 for a quarter of one core (cpu.max / cfs_quota_us). @default unlimited */
    cpus: z.optional(z.number({ error: 'expected cpus as a number, e.g. 0.5' }).check(z.gte(0.01, { error: 'cpus must be at least 0.01' }), z.lte(1024, { error: 'cpus must be at most 1024' }))),
    /** Relative CPU weight 1-10000 against sibling cgroups (v2 cpu.weight; v1 cpu.shares, converted). @default 100 (the kernel's) */
    cpuWeight: z.optional(z.int({ error: 'expected cpuWeight as a whole number from 1 to 10000' }).check(z.gte(1), z.lte(10000))),
    /** Most processes and threads at once (pids.max); a fork bomb stops there. @default unlimited */
    pids: z.optional(z.int({ error: 'expected pids as a whole number' }).check(z.gte(1, { error: 'pids must be at least 1' }), z.lte(4194304, { error: 'pids must be at most 4194304' }))),
    /** Block I/O caps per device (v2 io.max, v1 blkio.throttle.*). @default [] */
    io: z.optional(z.array(ioLimit)),
  })
  .check(z.refine((l) => !(l.memory !== undefined && l.memoryHigh !== undefined && parseSize(l.memoryHigh)! > parseSize(l.memory)!), {
    error: 'memoryHigh must not be above memory',
    path: ['memoryHigh'],
  }));

/** Flags of a bind mount (and a volume, which is one): what the kernel refuses through it. */
const bindFlags = {
  /** Mount it read-only. @default false */
  readonly: z.optional(z.boolean()),
  /** Setuid and setgid bits and file capabilities grant nothing through it (MS_NOSUID). @default false */
  nosuid: z.optional(z.boolean()),
  /** Device files on it cannot be opened (MS_NODEV). @default false */
  nodev: z.optional(z.boolean()),
  /** Nothing on it can be executed (MS_NOEXEC). @default false */
  noexec: z.optional(z.boolean()),
};

const bindMount = z.strictObject({
  type: z.literal('bind'),
  /** Host path to show inside the container; must exist when the script runs. */
  source: absolutePath('the source'),
  /** Where it appears inside the container. */
  target: containerTarget,
  ...bindFlags,
});

const volumeMount = z.strictObject({
  type: z.literal('volume'),
  /** The volume's name: the directory DATA_DIR/volumes/NAME (default /var/lib/unshared/volumes/NAME), created when missing and kept across runs and rm. */
  name: z.string({ error: 'expected the volume name as a string' }).check(z.regex(VOLUME_NAME_PATTERN, {
    error: 'a volume name must be 1-128 letters, digits, _ . or -, starting with a letter or digit',
  })),
  /** Where it appears inside the container. */
  target: containerTarget,
  ...bindFlags,
});

const tmpfsMount = z.strictObject({
  type: z.literal('tmpfs'),
  /** Where the tmpfs appears inside the container. */
  target: containerTarget,
  /** Size cap, e.g. '64m'. @default half of RAM (the kernel's) */
  size: z.optional(positiveSize),
  /** Octal permissions of the mount's root, e.g. '1777'. @default '1777' */
  mode: z.optional(z.string().check(z.regex(MODE_PATTERN, { error: "expected an octal mode such as '1777' or '755'" }))),
});

const sysfsMount = z.strictObject({
  type: z.literal('sysfs'),
  /** Where sysfs appears inside the container. @default '/sys' */
  target: z.optional(containerTarget),
  /** Mount it read-only, as Docker does. @default true */
  readonly: z.optional(z.boolean()),
});

const mount = z.discriminatedUnion('type', [bindMount, volumeMount, tmpfsMount, sysfsMount], {
  error: "expected a mount with type 'bind', 'volume', 'tmpfs' or 'sysfs'",
});

/** A sha256 digest: 64 lowercase hex digits, bare (as sha256sum prints it) or with OCI's `sha256:` prefix. */
export const SHA256_PATTERN = /^(sha256:)?[a-f0-9]{64}$/;
/**
 * A reference name of an OCI image layout (the org.opencontainers.image.ref.name annotation),
 * by the image-spec's grammar: components of alphanumerics joined by `- . _ : @ +` or `--`.
 */
export const OCI_REF_PATTERN = /^[A-Za-z0-9]+(([-._:@+]|--)[A-Za-z0-9]+)*(\/[A-Za-z0-9]+(([-._:@+]|--)[A-Za-z0-9]+)*)*$/;
/** What a download URL may hold: http(s), then printable ASCII without spaces, quotes or backslashes. */
const URL_PATTERN = /^https?:\/\/[A-Za-z0-9._~:/?#\[\]@!$&()*+,;=%-]+$/;

const dirSource = z.strictObject({
  /** A directory on the host holding the container's root filesystem (used in place, never copied). */
  dir: absolutePath('rootfs.dir'),
});
const tarSource = z.strictObject({
  /** A tarball (plain, gzip, xz, bzip2 or zstd); as rootfs, unpacked for each run and removed after it; as a layer, unpacked once into the layer cache by its sha256. */
  tar: absolutePath('rootfs.tar'),
});
const urlSource = z.strictObject({
  /** A tarball to download (http or https) with curl or wget, cached by its digest. */
  url: z.string({ error: 'expected url as a string' }).check(z.regex(URL_PATTERN, {
    error: "expected an http:// or https:// URL without spaces, quotes or backslashes (percent-encode them)",
  })),
  /** The tarball's sha256, checked before it is unpacked: 64 hex digits (`sha256sum` output), with or without `sha256:`. */
  sha256: z.string({ error: 'expected sha256 as a string' }).check(z.regex(SHA256_PATTERN, {
    error: "expected sha256 as 64 lowercase hex digits, e.g. the first word of 'sha256sum FILE', optionally prefixed with 'sha256:'",
  })),
});
const ociSource = z.strictObject({
  /** An OCI image layout directory on the host (oci-layout, index.json, blobs/sha256/...), e.g. from `skopeo copy docker://busybox oci:/srv/images/busybox`. */
  oci: absolutePath('rootfs.oci'),
  /** The image's reference name in index.json (annotation org.opencontainers.image.ref.name). @default 'latest' */
  ref: z._default(z.string({ error: 'expected ref as a string' }).check(z.regex(OCI_REF_PATTERN, {
    error: "expected ref as an OCI reference name such as 'latest' or 'v1.2' (letters and digits joined by - . _ : @ +)",
  })), 'latest'),
});
const ROOTFS_MESSAGE = "expected rootfs as { dir: '/abs/path' }, { tar: '/abs/file.tar.gz' }, { url, sha256 }, { oci: '/abs/layout', ref } or { layers: [...] }";
const layerSource = z.union([dirSource, tarSource, urlSource, ociSource], {
  error: "expected a layer as { dir }, { tar }, { url, sha256 } or { oci, ref }",
});
const layersSource = z.strictObject({
  /** Image layers, bottom first, each a dir, tar, url or oci source; a layer tarball may carry OCI whiteouts (.wh.NAME, .wh..wh..opq). */
  layers: z.array(layerSource, { error: 'expected layers as a list of sources' }).check(z.minLength(1, { error: 'layers needs at least one source' })),
});

const rootfs = z.union([dirSource, tarSource, urlSource, ociSource, layersSource], { error: ROOTFS_MESSAGE });

/** Made once: a zod schema is dozens of objects, too many to build at each validation. */
const optionalNetwork = z.optional(networkSchema);

/** The shape of a container spec as written by people (defaults not yet applied). */
export const containerSpecSchema = z
  .strictObject({
    /** Editors' JSON Schema reference in JSON and YAML specs; ignored by the compiler. */
    $schema: z.optional(z.string()),
    /** The container's name: names its cgroup and state. Letters, digits, `_ . -`, at most 63. */
    name: z.string({ error: 'expected name as a string' }).check(z.regex(CONTAINER_NAME_PATTERN, {
      error: 'name must be 1-63 letters, digits, _ . or -, starting with a letter or digit',
    })),
    /** The root filesystem the container runs in. */
    rootfs,
    /** Hostname inside the container's UTS namespace. @default the name */
    hostname: z.optional(z.string({ error: 'expected hostname as a string' }).check(z.regex(HOSTNAME_PATTERN, {
      error: 'hostname must be DNS labels (letters, digits, -) joined by dots, at most 64 bytes',
    }))),
    /** The program and its arguments, exec'd as given (no shell). @default ['/bin/sh'] */
    command: z._default(
      z.array(text('each command argument')).check(
        z.minLength(1, { error: 'command needs at least the program to run' }),
        z.refine((argv) => argv[0] !== '', { error: 'the program (command[0]) cannot be empty', path: [0] }),
      ),
      ['/bin/sh'],
    ),
    /** Environment of the container's process, and nothing else. @default { PATH: Docker's default } */
    env: z._default(
      z.record(
        z.string().check(
          z.regex(ENV_NAME_PATTERN, { error: 'env names must match [A-Za-z_][A-Za-z0-9_]*' }),
          z.refine((n) => !(RESERVED_ENV_NAMES as readonly string[]).includes(n), {
            error: `this env name is reserved by bash, which starts the container (reserved: ${RESERVED_ENV_NAMES.join(' ')})`,
          }),
        ),
        text('an env value'),
      ),
      {},
    ),
    /** Working directory inside the container, created when missing. @default '/' */
    workdir: z._default(absolutePath('workdir'), '/'),
    /** Namespaces to create; `mount` is required (the script pivots into the rootfs); `user` maps root to an unprivileged host id (see userns). @default ['pid','mount','uts','ipc','net','cgroup'] */
    namespaces: z._default(z.array(z.enum(NAMESPACES, { error: `expected one of: ${NAMESPACES.join(', ')}` })), DEFAULT_NAMESPACES),
    /** The id maps of the user namespace ('user' in namespaces): container root becomes host id 100000 by default. @default { hostId: 100000, size: 65536 } */
    userns: z.optional(usernsSchema),
    /** Resource limits, applied through cgroup v1 or v2, whichever the host has. @default {} */
    limits: z._default(limits, {}),
    /** The root filesystem is read-only: no writable layer at all; writes fail with EROFS (mount points must exist in the rootfs). @default false */
    readonlyRootfs: z._default(z.boolean({ error: 'expected readonlyRootfs as true or false' }), false),
    /** The writable layer lives on a tmpfs in the container's mount namespace: its writes are lost when the container ends (and count against its memory). @default false */
    volatile: z._default(z.boolean({ error: 'expected volatile as true or false' }), false),
    /** Remove the writable layer when a foreground run ends, as `docker run --rm`; otherwise it stays for `commit` until `rm`. @default false */
    autoRemove: z._default(z.boolean({ error: 'expected autoRemove as true or false' }), false),
    /** Extra mounts, in order; /proc and a minimal /dev are always there. @default [] */
    mounts: z._default(z.array(mount), []),
    /** Parent of the container's cgroup, relative to the hierarchy root(s); UNSHARED_CGROUP_PARENT overrides it at run time. @default 'unshared' */
    cgroupParent: z._default(
      z.string({ error: 'expected cgroupParent as a string' }).check(
        z.regex(CGROUP_PARENT_PATTERN, {
          error: "cgroupParent must be a relative path of letters, digits, _ . @ : -, e.g. 'unshared' or 'machine.slice/web'",
        }),
        z.refine((p) => p.split('/').every((c) => c !== '.' && c !== '..'), {
          error: "cgroupParent cannot contain '.' or '..' components",
        }),
      ),
      'unshared',
    ),
    /** Seconds between SIGTERM and SIGKILL when the script is stopped. @default 10 */
    stopTimeout: z._default(
      z.int({ error: 'expected stopTimeout as whole seconds' }).check(z.gte(0, { error: 'stopTimeout must be 0 to 3600 seconds' }), z.lte(3600, { error: 'stopTimeout must be 0 to 3600 seconds' })),
      10,
    ),
    /** Capabilities of the command: Docker's default 14, plus `add`, minus `drop` ('ALL' drops every one). @default { add: [], drop: [] } */
    capabilities: z._default(capabilitiesSchema, { add: [], drop: [] }),
    /** Sets no_new_privs: setuid binaries and file capabilities grant nothing. @default true */
    noNewPrivileges: z._default(z.boolean({ error: 'expected noNewPrivileges as true or false' }), true),
    /** The numeric 'uid:gid' the command runs as. @default '0:0' (root, with the capabilities above) */
    user: z.optional(userSchema),
    /** Numeric supplementary group ids of the command. @default [] */
    groups: z._default(groupsSchema, []),
    /** Resource limits of the process (setrlimit), e.g. `{ nofile: 1024 }` or `{ nofile: { soft: 1024, hard: 4096 } }`; sizes for core, fsize, stack, memlock, as, data. @default the host's */
    rlimits: z._default(rlimitsSchema, {}),
    /** Namespaced kernel parameters: net.* (needs the 'net' namespace), kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.* (need 'ipc'). @default {} */
    sysctls: z._default(sysctlsSchema, {}),
    /** Clock offsets in the time namespace (needs 'time' in namespaces), in seconds. @default none */
    timeOffsets: z.optional(timeOffsetsSchema),
    /** The container's network: 'none' (loopback only), 'host', or 'bridge' with ports and NAT. @default { mode: 'none' } with 'net' in namespaces, else { mode: 'host' } */
    network: optionalNetwork,
    /** When the service manager restarts the container (the systemd target's Restart=; Kubernetes' restartPolicy). @default 'no' */
    restart: z._default(z.enum(RESTART_POLICIES, { error: "expected restart as 'no', 'on-failure' or 'always'" }), 'no'),
    /** The OCI image reference (e.g. 'docker.io/library/nginx:1.27') for targets that pull images (kubernetes); the script and OCI bundle use rootfs. @default none */
    image: z.optional(z.string({ error: 'expected image as a string' }).check(z.regex(IMAGE_PATTERN, {
      error: "image must be an image reference such as 'nginx:1.27' or 'registry.example.com/team/app@sha256:...' (no spaces)",
    }))),
    /** Copies to run (the kubernetes target emits a Deployment instead of a Pod when set). @default none (one Pod) */
    replicas: z.optional(
      z.int({ error: 'expected replicas as a whole number' }).check(z.gte(0, { error: 'replicas must be 0 to 10000' }), z.lte(10000, { error: 'replicas must be 0 to 10000' })),
    ),
  })
  .check(z.superRefine((spec, ctx) => {
    // Runs even when other fields have problems (see `when` below), so that every problem is
    // reported at once: each check looks only at fields that have the expected shape.
    if (!Array.isArray(spec.namespaces)) return;
    const namespaces: string[] = spec.namespaces.filter((ns) => typeof ns === 'string');
    const mounts: unknown[] = Array.isArray(spec.mounts) ? spec.mounts : [];
    const seen = new Set<string>();
    namespaces.forEach((ns, i) => {
      if (seen.has(ns)) ctx.addIssue({ code: 'custom', path: ['namespaces', i], message: `'${ns}' is listed twice` });
      seen.add(ns);
    });
    if (!namespaces.includes('mount')) {
      ctx.addIssue({ code: 'custom', path: ['namespaces'], message: "add 'mount': the container needs its own mount namespace to pivot into its rootfs" });
    }
    if (!namespaces.includes('uts') && spec.hostname !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['hostname'], message: "a hostname needs the 'uts' namespace; without it the host's own hostname would change" });
    }
    if (namespaces.includes('uts') && spec.hostname === undefined && typeof spec.name === 'string' && CONTAINER_NAME_PATTERN.test(spec.name) && !HOSTNAME_PATTERN.test(spec.name)) {
      ctx.addIssue({ code: 'custom', path: ['hostname'], message: `the name '${spec.name}' is not a valid hostname; set hostname explicitly` });
    }
    const sysctls: object = typeof spec.sysctls === 'object' && spec.sysctls !== null ? spec.sysctls : {};
    for (const key of Object.keys(sysctls)) {
      const ns = sysctlNamespace(key);
      if (ns === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['sysctls', key],
          message: 'only namespaced sysctls can be set (net.* with the net namespace; kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.* with ipc): this one would change the host',
        });
      } else if (!namespaces.includes(ns)) {
        ctx.addIssue({ code: 'custom', path: ['sysctls', key], message: `add '${ns}' to namespaces: without it this sysctl would change the host's value` });
      }
    }
    if (spec.readonlyRootfs === true && spec.volatile === true) {
      ctx.addIssue({ code: 'custom', path: ['volatile'], message: 'a read-only rootfs has no writable layer to keep on a tmpfs: remove volatile or readonlyRootfs' });
    }
    if (spec.timeOffsets !== undefined && !namespaces.includes('time')) {
      ctx.addIssue({ code: 'custom', path: ['timeOffsets'], message: "add 'time' to namespaces: clock offsets need a time namespace" });
    }
    const targets = new Map<string, number>();
    mounts.forEach((mount, i) => {
      if (typeof mount !== 'object' || mount === null) return;
      const m = mount as { type?: unknown; target?: unknown };
      const target = m.target ?? (m.type === 'sysfs' ? '/sys' : undefined);
      if (typeof target !== 'string') return;
      if (target === '/proc' || target.startsWith('/proc/') || target === '/dev' || target.startsWith('/dev/')) {
        ctx.addIssue({ code: 'custom', path: ['mounts', i, 'target'], message: `${target} is managed by the script (/proc and a minimal /dev are always mounted)` });
      }
      if (targets.has(target)) {
        ctx.addIssue({ code: 'custom', path: ['mounts', i, 'target'], message: `${target} is already the target of mounts[${targets.get(target)}]` });
      }
      targets.set(target, i);
    });
    // checkNetwork reads a network of the right shape only; a malformed one has its own issues.
    const network = optionalNetwork.safeParse(spec.network);
    if (network.success) checkNetwork(network.data, namespaces, ctx);
    checkUserns(spec, namespaces, network.success ? networkMode(network.data, namespaces) : undefined, ctx);
  }, { when: (payload) => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value) }));

/** A container spec as written: what `defineContainer` accepts and JSON/YAML files contain. */
export type ContainerSpecInput = z.input<typeof containerSpecSchema>;
/** A container spec that passed validation. */
export type ContainerSpec = z.output<typeof containerSpecSchema>;
export type MountSpec = NonNullable<ContainerSpec['mounts']>[number];
export type LimitsSpec = NonNullable<ContainerSpec['limits']>;

/**
 * Declares a container in TypeScript with full type checking and editor completion. It returns
 * the spec unchanged: validation happens when the spec is compiled.
 */
export function defineContainer(spec: ContainerSpecInput): ContainerSpecInput {
  return spec;
}

/** The JSON Schema of the spec (draft 2020-12), generated from the zod schema above. */
export function specJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(containerSpecSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
