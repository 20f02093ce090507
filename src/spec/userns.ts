/**
 * The `userns` part of the spec: how ids inside the container's user namespace map to ids on
 * the host. Root in the container is then an unprivileged id on the host: files, signals and
 * the kernel's checks see that id, and the container's capabilities count only inside the
 * namespaces its user namespace owns.
 */
import * as z from 'zod/mini';

/** The first range useradd(8) gives out in /etc/subuid and /etc/subgid (SUB_UID_MIN, SUB_UID_COUNT). */
export const DEFAULT_USERNS_HOST_ID = 100000;
export const DEFAULT_USERNS_SIZE = 65536;
/** The kernel takes at most 340 lines in uid_map and gid_map (since Linux 4.15). */
export const MAX_ID_RANGES = 340;
/** Ids are 32 bits; 2^32-1 is the kernel's "no id". */
const ID_LIMIT = 4294967295;

const id = (what: string) =>
  z.int({ error: `expected ${what} as a whole number` }).check(z.gte(0, { error: `${what} must be 0 or more` }), z.lte(ID_LIMIT - 1, { error: `${what} is at most ${ID_LIMIT - 1}` }));
const rangeSize = z.int({ error: 'expected size as a whole number' }).check(z.gte(1, { error: 'size must be at least 1' }), z.lte(ID_LIMIT, { error: `size is at most ${ID_LIMIT}` }));

/** One line of uid_map or gid_map: `size` ids from `containerId` inside are `hostId`... on the host. */
export const idRangeSchema = z.strictObject({
  /** First id inside the container. */
  containerId: id('containerId'),
  /** The host id that `containerId` maps to. */
  hostId: id('hostId'),
  /** How many consecutive ids the range maps. */
  size: rangeSize,
});
export type IdRange = z.output<typeof idRangeSchema>;

const idMap = z.array(idRangeSchema).check(
  z.minLength(1, { error: 'a map needs at least one range' }),
  z.maxLength(MAX_ID_RANGES, { error: `the kernel takes at most ${MAX_ID_RANGES} ranges` }),
);

export const usernsSchema = z
  .strictObject({
    /** The host id that root (uid and gid 0) in the container maps to; `size` ids from there are mapped. @default 100000 */
    hostId: z.optional(id('hostId')),
    /** How many ids, from 0 in the container, map to the host from `hostId`. @default 65536 */
    size: z.optional(rangeSize),
    /** uid ranges instead of hostId/size; container uid 0 must be mapped. */
    uidMap: z.optional(idMap),
    /** gid ranges instead of hostId/size; container gid 0 must be mapped. @default the uidMap */
    gidMap: z.optional(idMap),
  })
  .check(z.superRefine((u, ctx) => {
    if ((u.hostId !== undefined || u.size !== undefined) && (u.uidMap !== undefined || u.gidMap !== undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give either hostId and size, or uidMap and gidMap, not both' });
    }
    if (u.gidMap !== undefined && u.uidMap === undefined) {
      ctx.addIssue({ code: 'custom', path: ['uidMap'], message: 'gidMap needs a uidMap too' });
    }
    const base = u.hostId ?? DEFAULT_USERNS_HOST_ID;
    if (u.hostId !== undefined || u.size !== undefined) {
      checkRanges([{ containerId: 0, hostId: base, size: u.size ?? DEFAULT_USERNS_SIZE }], [], ctx, 'hostId');
    }
    if (u.uidMap !== undefined) checkRanges(u.uidMap, ['uidMap'], ctx);
    if (u.gidMap !== undefined) checkRanges(u.gidMap, ['gidMap'], ctx);
  }));
export type UsernsSpec = z.output<typeof usernsSchema>;
/** Made once, for checkUserns: a zod schema is dozens of objects, too many to build at each validation. */
const optionalUserns = z.optional(usernsSchema);

function overlaps(a: number, aSize: number, b: number, bSize: number): boolean {
  return a < b + bSize && b < a + aSize;
}

/** Ranges stay below 2^32-1, do not overlap inside or on the host, and never map host root. */
function checkRanges(ranges: readonly IdRange[], path: (string | number)[], ctx: z.core.$RefinementCtx, field?: string): void {
  const at = (i: number, key: string) => (field !== undefined ? [field] : [...path, i, key]);
  ranges.forEach((r, i) => {
    if (r.containerId + r.size > ID_LIMIT) ctx.addIssue({ code: 'custom', path: at(i, 'size'), message: `containerId + size must be at most ${ID_LIMIT}` });
    if (r.hostId + r.size > ID_LIMIT) ctx.addIssue({ code: 'custom', path: at(i, 'size'), message: `hostId + size must be at most ${ID_LIMIT}` });
    if (r.hostId === 0) {
      ctx.addIssue({ code: 'custom', path: at(i, 'hostId'), message: "the range would map the host's root (id 0) into the container; start at an unprivileged id such as 100000" });
    }
    for (let j = 0; j < i; j++) {
      const o = ranges[j]!;
      if (overlaps(r.containerId, r.size, o.containerId, o.size)) {
        ctx.addIssue({ code: 'custom', path: at(i, 'containerId'), message: `overlaps the container ids of ${path.join('.')}[${j}]` });
      }
      if (overlaps(r.hostId, r.size, o.hostId, o.size)) {
        ctx.addIssue({ code: 'custom', path: at(i, 'hostId'), message: `overlaps the host ids of ${path.join('.')}[${j}]` });
      }
    }
  });
  if (ranges.length > 0 && !ranges.some((r) => r.containerId === 0)) {
    ctx.addIssue({ code: 'custom', path, message: "map container id 0: the script starts the container as root inside its user namespace (a range with containerId 0)" });
  }
}

/** The resolved maps: the spec's, or one range of `size` ids from `hostId` for both. */
export function resolveIdMaps(userns: UsernsSpec | undefined): { uidMap: IdRange[]; gidMap: IdRange[] } {
  if (userns?.uidMap !== undefined) return { uidMap: userns.uidMap, gidMap: userns.gidMap ?? userns.uidMap };
  const range = { containerId: 0, hostId: userns?.hostId ?? DEFAULT_USERNS_HOST_ID, size: userns?.size ?? DEFAULT_USERNS_SIZE };
  return { uidMap: [range], gidMap: [range] };
}

/** Whether the container id `id` is mapped by `ranges`. */
export function idMapped(ranges: readonly IdRange[], id: number): boolean {
  return ranges.some((r) => id >= r.containerId && id < r.containerId + r.size);
}

/** The host id that container id `id` maps to (it must be mapped). */
export function hostIdOf(ranges: readonly IdRange[], id: number): number {
  const r = ranges.find((range) => id >= range.containerId && id < range.containerId + range.size)!;
  return r.hostId + (id - r.containerId);
}

/**
 * The cross-field rules of a user namespace (namespaces, user, groups, mounts, network), checked
 * only on fields that have the expected shape.
 */
export function checkUserns(
  spec: { userns?: unknown; user?: unknown; groups?: unknown; mounts?: unknown; network?: unknown },
  namespaces: readonly string[],
  networkMode: string | undefined,
  ctx: z.core.$RefinementCtx,
): void {
  const userIndex = namespaces.indexOf('user');
  if (userIndex < 0) {
    if (spec.userns !== undefined) ctx.addIssue({ code: 'custom', path: ['userns'], message: "add 'user' to namespaces: userns maps the ids of a user namespace" });
    return;
  }
  for (const [ns, why] of [
    ['pid', 'only the owner of a pid namespace can mount its /proc'],
    ['ipc', 'only the owner of an ipc namespace can mount its /dev/mqueue'],
  ] as const) {
    if (!namespaces.includes(ns)) ctx.addIssue({ code: 'custom', path: ['namespaces'], message: `add '${ns}': with 'user', ${why}` });
  }
  if (networkMode === 'bridge') {
    ctx.addIssue({
      code: 'custom',
      path: ['network', 'mode'],
      message: "bridge networking with 'user' is not supported yet: the prepared network namespace would belong to the host's user namespace; use 'none' or 'host'",
    });
  }
  if (Array.isArray(spec.mounts) && !namespaces.includes('net')) {
    spec.mounts.forEach((m: unknown, i: number) => {
      if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'sysfs') {
        ctx.addIssue({ code: 'custom', path: ['mounts', i, 'type'], message: "sysfs under 'user' needs 'net' too: only the owner of a network namespace can mount sysfs" });
      }
    });
  }
  const parsed = optionalUserns.safeParse(spec.userns);
  if (!parsed.success) return;
  const { uidMap, gidMap } = resolveIdMaps(parsed.data);
  if (typeof spec.user === 'string' && /^[0-9]+:[0-9]+$/.test(spec.user)) {
    const [uid, gid] = spec.user.split(':').map(Number) as [number, number];
    if (!idMapped(uidMap, uid)) ctx.addIssue({ code: 'custom', path: ['user'], message: `uid ${uid} is not mapped by userns: the container could not switch to it` });
    if (!idMapped(gidMap, gid)) ctx.addIssue({ code: 'custom', path: ['user'], message: `gid ${gid} is not mapped by userns: the container could not switch to it` });
  }
  if (Array.isArray(spec.groups)) {
    spec.groups.forEach((g: unknown, i: number) => {
      if (typeof g === 'number' && !idMapped(gidMap, g)) ctx.addIssue({ code: 'custom', path: ['groups', i], message: `gid ${g} is not mapped by userns` });
    });
  }
}
