/**
 * The resolved plan of a container: every decision taken, every value converted, every name
 * derived. Plain data, no shell syntax: the templates only place these values.
 */
import { CGROUP_PARENT_ERE, DEFAULT_PATH, ENV_NAME_ERE, RESERVED_ENV_NAMES, type ContainerSpec, type Namespace, type RestartPolicy } from '../spec/schema.js';
import { parseSize } from '../spec/units.js';
import { V1_HIERARCHY, cgroupControllers, cgroupV1Writes, cgroupV2Writes, resolveResources, type CgroupWrite, type ResourcesModel } from './cgroup.js';
import { MASKED_PROC_PATHS, MASKED_SYSFS_PATHS, READONLY_PROC_PATHS, resolveSecurity, type SecurityModel } from './security.js';
import { resolveNetwork, type NetworkModel } from './network.js';
import { requiredTools, type Tool } from './tools.js';
import { hostIdOf, resolveIdMaps, type IdRange } from '../spec/userns.js';

export interface EnvVar {
  name: string;
  value: string;
}

/** A mount made inside the container's mount namespace before it pivots into the rootfs. */
export interface MountStep {
  /** Where the spec declared it, for error messages: `mounts[2]`. */
  origin: string;
  target: string;
  /**
   * A bind mount of a host path; a file source needs the target's parent directory. `options`
   * are the flags mount(8) applies with the bind in one call (`ro,nosuid,nodev,noexec`), or ''.
   */
  bind?: { source: string; readonly: boolean; options: string; targetParent: string };
  /**
   * A named volume's name: the bind's source is then DATA_ROOT/volumes/NAME, found by the
   * script at run time (`bind.source` is its default path, for targets that need a fixed one).
   */
  volume?: string;
  /** A fresh filesystem instance (tmpfs, sysfs). */
  fs?: { type: string; options: string };
}

/** One source of image layers, as the script fetches it; exactly one of dir, tar, url, oci is set. */
export interface LayerStep {
  /** Where the spec declared it, for error messages: `rootfs`, `rootfs.layers[1]`. */
  origin: string;
  /** A host directory used as a layer as it is. */
  dir?: string;
  /** A local tarball, unpacked into the cache under its own sha256. */
  tar?: string;
  /** A tarball downloaded, verified against `sha256` (bare hex), and unpacked into the cache. */
  url?: { url: string; sha256: string };
  /** An OCI image layout: each layer of the manifest that `ref` names. */
  oci?: { layout: string; ref: string };
}

/** The user namespace: its id maps, and the host ids the container's root maps to. */
export interface UsernsModel {
  uidRanges: IdRange[];
  gidRanges: IdRange[];
  /** uid_map and gid_map as the kernel takes them: one `INSIDE HOST SIZE` line per range, in one write. */
  uidMap: string;
  gidMap: string;
  /** The host uid and gid of root in the container: unshare runs as them, so that they own the namespaces. */
  rootUid: number;
  rootGid: number;
  /**
   * setpriv's options where setgroups(2) is denied (a normal user's single-id map): the same,
   * keeping the supplementary groups instead of clearing them, which the kernel then refuses.
   */
  setprivArgsKeepGroups: string[];
  /** A normal user can run it: the maps then hold only that user's ids, as root. */
  rootlessUser: boolean;
}

export interface ContainerModel {
  name: string;
  /** null when the container shares the host's UTS namespace. */
  hostname: string | null;
  command: string[];
  env: EnvVar[];
  workdir: string;
  namespaces: Record<Namespace, boolean>;
  /** The user namespace's maps, or null without 'user' in namespaces. */
  userns: UsernsModel | null;
  /** Arguments to unshare(1) that create the namespaces. */
  unshareArgs: string[];
  /**
   * The root filesystem: a directory used in place, a tarball unpacked for each run, or image
   * layers (bottom first) that the script fetches, verifies and unpacks into its layer cache.
   */
  rootfs: { dir: string } | { tar: string } | { layers: LayerStep[] };
  /** The default layer cache (one directory per sha256 digest); UNSHARED_LAYER_CACHE overrides it. */
  layerCache: string;
  /** The container's root: read-only layers (the rootfs) under its own writable layer. */
  storage: StorageModel;
  cgroup: {
    parent: string;
    /** The script checks UNSHARED_CGROUP_PARENT against this (a POSIX ERE). */
    parentPattern: string;
    controllers: { name: string; v1Name: string; required: boolean }[];
    v1: (CgroupWrite & { v1Name: string })[];
    v2: CgroupWrite[];
    /** The spec sets limits (a rootless run cannot apply them). */
    limited: boolean;
  };
  mounts: MountStep[];
  /**
   * The mounts in two runs of mount(8): up to the last sysfs each on its own (the hardening looks
   * into a sysfs for the paths to mask), the rest as lines of the hardening's one run, in order.
   */
  mountsAlone: MountStep[];
  mountsInHardening: MountStep[];
  /** Names of the named volumes the mounts use, each once. */
  volumes: string[];
  /** The host's device nodes, bind-mounted onto empty files in the container's /dev (a tmpfs). */
  devices: string[];
  /** Symlinks in the container's /dev: name -> target. */
  deviceLinks: { name: string; target: string }[];
  /** Paths hidden from the container: files behind /dev/null, directories behind an empty read-only tmpfs. */
  maskedPaths: string[];
  /** Paths bound onto themselves read-only. */
  readonlyPaths: string[];
  /**
   * Where the container's own cgroups appear read-only (below its sysfs mount, with the cgroup
   * namespace: the container's cgroup is their root), or null.
   */
  cgroupfs: string | null;
  /** Kernel parameters of the container's namespaces, written into /proc/sys before it turns read-only. */
  sysctls: { key: string; path: string; value: string }[];
  /** Capabilities, no_new_privs, user, groups and rlimits of the container's process. */
  security: SecurityModel;
  tools: Tool[];
  stopTimeout: number;
  /** network: the mode, the bridge plan, the container's /etc/hosts and /etc/resolv.conf. */
  network: NetworkModel;
  /** Where the per-container state directories live; UNSHARED_STATE_DIR overrides it. */
  stateRoot: string;
  /** Where kept writable layers (containers/NAME) and named volumes (volumes/NAME) live; UNSHARED_DATA_DIR overrides it. */
  dataRoot: string;
  /** `exec -e NAME=VALUE` is checked at run time against the spec's own rules for env names. */
  envNamePattern: string;
  reservedEnvNames: string[];
  /** The limits as numbers, for targets that take values rather than cgroup files (OCI, Kubernetes). */
  resources: ResourcesModel;
  /** The service manager's restart policy (systemd, Kubernetes). */
  restart: RestartPolicy;
  /** The image reference for targets that pull images, or null. */
  image: string | null;
  /** Copies to run (a Kubernetes Deployment), or null for one Pod. */
  replicas: number | null;
}

/** The default layer cache: unpacked image layers, one directory per sha256 digest, shared by every container. */
export const DEFAULT_LAYER_CACHE = '/var/lib/unshared/layers';

type LayerSpec = { dir: string } | { tar: string } | { url: string; sha256: string } | { oci: string; ref: string };

function layerStep(source: LayerSpec, origin: string): LayerStep {
  if ('dir' in source) return { origin, dir: source.dir };
  if ('tar' in source) return { origin, tar: source.tar };
  if ('url' in source) return { origin, url: { url: source.url, sha256: source.sha256.replace(/^sha256:/, '') } };
  return { origin, oci: { layout: source.oci, ref: source.ref } };
}

/** dir and tar stay as they were; url, oci and layers become a list of layer sources. */
function resolveRootfs(rootfs: ContainerSpec['rootfs']): ContainerModel['rootfs'] {
  if ('dir' in rootfs) return { dir: rootfs.dir };
  if ('tar' in rootfs) return { tar: rootfs.tar };
  if ('layers' in rootfs) return { layers: rootfs.layers.map((l, i) => layerStep(l, `rootfs.layers[${i}]`)) };
  return { layers: [layerStep(rootfs, 'rootfs')] };
}

/** The default root of the state directories: one per container, on the host's tmpfs. */
export const DEFAULT_STATE_ROOT = '/run/unshared';
/**
 * The default root of what outlives a run: writable layers kept for commit until rm, and named
 * volumes. On disk, not on /run's tmpfs: it survives reboots and does not take memory (Docker's
 * /var/lib/docker for the same reasons).
 */
export const DEFAULT_DATA_ROOT = '/var/lib/unshared';

/**
 * The root filesystem is an overlay: the rootfs's layers read-only below, and one writable
 * layer per container above, so that containers share their image and never change it.
 */
export interface StorageModel {
  /** No writable layer: the root is a read-only bind (one layer) or an overlay without upper. */
  readonly: boolean;
  /** The writable layer is on a tmpfs inside the container's mount namespace: it ends with it. */
  volatile: boolean;
  /** The writable layer is a host directory (DATA_ROOT/containers/NAME): neither readonly nor volatile. */
  hostLayer: boolean;
  /** A host layer outlives a foreground run (for commit) until rm; false with autoRemove. */
  keepLayer: boolean;
}

const NAMESPACE_FLAGS: Record<Namespace, string> = {
  pid: '--pid', net: '--net', mount: '--mount', uts: '--uts', ipc: '--ipc', user: '--user', cgroup: '--cgroup', time: '--time',
};
const NAMESPACE_ORDER: Namespace[] = ['user', 'mount', 'pid', 'uts', 'ipc', 'net', 'cgroup', 'time'];

/** `namedNet`: the network namespace is made beforehand (bridge mode) and entered with nsenter. */
function unshareArgs(enabled: Record<Namespace, boolean>, timeOffsets: ContainerSpec['timeOffsets'], namedNet: boolean): string[] {
  const args = NAMESPACE_ORDER.filter((ns) => enabled[ns] && !(ns === 'net' && namedNet)).map((ns) => NAMESPACE_FLAGS[ns]);
  // The `=` form: a negative offset is not taken for an option.
  if (timeOffsets?.monotonic !== undefined) args.push(`--monotonic=${timeOffsets.monotonic}`);
  if (timeOffsets?.boottime !== undefined) args.push(`--boottime=${timeOffsets.boottime}`);
  // Without --fork: the script forks the pid namespace's first process itself (see launch).
  args.push('--propagation', 'private');
  return args;
}

/** The index of the spec's last sysfs mount, or -1. */
function lastSysfs(spec: ContainerSpec): number {
  return spec.mounts.map((m) => m.type).lastIndexOf('sysfs');
}

function mountSteps(spec: ContainerSpec): MountStep[] {
  return spec.mounts.map((m, i): MountStep => {
    const origin = `mounts[${i}]`;
    switch (m.type) {
      case 'bind':
      case 'volume': {
        const flags = (['readonly', 'nosuid', 'nodev', 'noexec'] as const).filter((f) => m[f] === true);
        return {
          origin,
          target: m.target,
          bind: {
            source: m.type === 'bind' ? m.source : `${DEFAULT_DATA_ROOT}/volumes/${m.name}`,
            readonly: m.readonly ?? false,
            options: flags.map((f) => (f === 'readonly' ? 'ro' : f)).join(','),
            targetParent: m.target.slice(0, m.target.lastIndexOf('/')) || '/',
          },
          ...(m.type === 'volume' ? { volume: m.name } : {}),
        };
      }
      case 'tmpfs': {
        const options = ['nosuid', 'nodev', `mode=${m.mode ?? '1777'}`];
        if (m.size !== undefined) options.push(`size=${parseSize(m.size)}`);
        return { origin, target: m.target, fs: { type: 'tmpfs', options: options.join(',') } };
      }
      case 'sysfs':
        return {
          origin,
          target: m.target ?? '/sys',
          fs: { type: 'sysfs', options: [(m.readonly ?? true) ? 'ro' : 'rw', 'nosuid', 'nodev', 'noexec'].join(',') },
        };
    }
  });
}

function resolveUserns(spec: ContainerSpec, security: SecurityModel): UsernsModel | null {
  if (!spec.namespaces.includes('user')) return null;
  const { uidMap, gidMap } = resolveIdMaps(spec.userns);
  const text = (ranges: IdRange[]) => ranges.map((r) => `${r.containerId} ${r.hostId} ${r.size}\n`).join('');
  return {
    uidRanges: uidMap,
    gidRanges: gidMap,
    uidMap: text(uidMap),
    gidMap: text(gidMap),
    rootUid: hostIdOf(uidMap, 0),
    rootGid: hostIdOf(gidMap, 0),
    setprivArgsKeepGroups: security.setprivArgs.map((a) => (a === '--clear-groups' ? '--keep-groups' : a)),
    rootlessUser: security.uid === 0 && security.gid === 0 && security.groups.length === 0,
  };
}

/** `SYSFS/fs/cgroup` of the first sysfs mount, with the cgroup namespace; else null. */
function cgroupfsTarget(spec: ContainerSpec, namespaces: Record<Namespace, boolean>): string | null {
  const sysfs = spec.mounts.find((m) => m.type === 'sysfs');
  if (!namespaces.cgroup || sysfs === undefined) return null;
  return `${sysfs.target ?? '/sys'}/fs/cgroup`;
}

/** Turns a validated spec into the plan that every target renders. */
export function resolveModel(spec: ContainerSpec): ContainerModel {
  const namespaces = Object.fromEntries(
    (Object.keys(NAMESPACE_FLAGS) as Namespace[]).map((ns) => [ns, spec.namespaces.includes(ns)]),
  ) as Record<Namespace, boolean>;
  const env: EnvVar[] = Object.entries(spec.env).map(([name, value]) => ({ name, value }));
  if (!('PATH' in spec.env)) env.unshift({ name: 'PATH', value: DEFAULT_PATH });
  const rootfs = resolveRootfs(spec.rootfs);
  const layers = 'layers' in rootfs ? rootfs.layers : [];
  const hostname = namespaces.uts ? (spec.hostname ?? spec.name) : null;
  const network = resolveNetwork(spec, hostname);
  const security = resolveSecurity(spec);
  const userns = resolveUserns(spec, security);

  return {
    name: spec.name,
    hostname,
    command: spec.command,
    env,
    workdir: spec.workdir,
    namespaces,
    userns,
    unshareArgs: unshareArgs(namespaces, spec.timeOffsets, network.bridge !== null),
    rootfs,
    layerCache: DEFAULT_LAYER_CACHE,
    storage: {
      readonly: spec.readonlyRootfs,
      volatile: spec.volatile,
      hostLayer: !spec.readonlyRootfs && !spec.volatile,
      keepLayer: !spec.readonlyRootfs && !spec.volatile && !spec.autoRemove,
    },
    cgroup: {
      parent: spec.cgroupParent,
      parentPattern: CGROUP_PARENT_ERE,
      controllers: cgroupControllers(spec.limits).map((c) => ({ ...c, v1Name: V1_HIERARCHY[c.name] })),
      v1: cgroupV1Writes(spec.limits).map((w) => ({ ...w, v1Name: V1_HIERARCHY[w.controller] })),
      v2: cgroupV2Writes(spec.limits),
      limited: cgroupV2Writes(spec.limits).length > 0,
    },
    mounts: mountSteps(spec),
    mountsAlone: mountSteps(spec).slice(0, lastSysfs(spec) + 1),
    mountsInHardening: mountSteps(spec).slice(lastSysfs(spec) + 1),
    volumes: [...new Set(spec.mounts.flatMap((m) => (m.type === 'volume' ? [m.name] : [])))],
    devices: ['null', 'zero', 'full', 'random', 'urandom', 'tty'],
    deviceLinks: [
      { name: 'fd', target: '/proc/self/fd' },
      { name: 'stdin', target: '/proc/self/fd/0' },
      { name: 'stdout', target: '/proc/self/fd/1' },
      { name: 'stderr', target: '/proc/self/fd/2' },
      { name: 'ptmx', target: 'pts/ptmx' },
    ],
    maskedPaths: [
      ...MASKED_PROC_PATHS,
      ...spec.mounts.filter((m) => m.type === 'sysfs').flatMap((m) => MASKED_SYSFS_PATHS.map((p) => `${m.target ?? '/sys'}${p}`)),
    ],
    readonlyPaths: READONLY_PROC_PATHS,
    cgroupfs: cgroupfsTarget(spec, namespaces),
    sysctls: Object.entries(spec.sysctls).map(([key, value]) => ({ key, path: `/proc/sys/${key.replaceAll('.', '/')}`, value: String(value) })),
    security,
    tools: requiredTools({
      tar: 'tar' in rootfs,
      unpack: layers.some((l) => l.tar !== undefined || l.url !== undefined || l.oci !== undefined),
      download: layers.some((l) => l.url !== undefined),
      oci: layers.some((l) => l.oci !== undefined),
      net: namespaces.net, fileBinds: spec.mounts.some((m) => m.type === 'bind') || network.files, bridge: network.bridge !== null,
      userns: userns !== null, hostname: userns !== null && hostname !== null,
    }),
    stopTimeout: spec.stopTimeout,
    network,
    stateRoot: DEFAULT_STATE_ROOT,
    dataRoot: DEFAULT_DATA_ROOT,
    envNamePattern: ENV_NAME_ERE,
    reservedEnvNames: [...RESERVED_ENV_NAMES],
    resources: resolveResources(spec.limits),
    restart: spec.restart,
    image: spec.image ?? null,
    replicas: spec.replicas ?? null,
  };
}
