/**
 * The `network` part of the spec: modes, the bridge, addresses and published ports. Addresses
 * are parsed here, once; the model and the script only ever see validated dotted quads and
 * interface names that are safe shell words.
 */
import { net } from '../lazy.js';
import * as z from 'zod/mini';

export const NETWORK_MODES = ['none', 'host', 'bridge'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

export const DEFAULT_BRIDGE = 'unshared0';
export const DEFAULT_SUBNET = '10.88.0.0/24';

/** Interface names: the kernel takes 1-15 bytes without '/', ':' or spaces; we keep to safe words. */
export const INTERFACE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,15}$/;
const HOST_NAME_PATTERN = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4_PATTERN = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

/** `10.88.0.1` -> 173539329, or undefined when the text is not a dotted quad. */
export function parseIpv4(text: string): number | undefined {
  if (!IPV4_PATTERN.test(text)) return undefined;
  return text.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Subnet {
  /** The network address as a number. */
  network: number;
  prefix: number;
  /** Addresses in the subnet, network and broadcast included. */
  size: number;
}

/** Parses `10.88.0.0/24`; the error says what is wrong (host bits set, prefix out of range). */
export function parseSubnet(text: string): Subnet | string {
  const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
  const address = match ? parseIpv4(match[1]!) : undefined;
  if (!match || address === undefined) return "expected an IPv4 subnet in CIDR form, e.g. '10.88.0.0/24'";
  const prefix = Number(match[2]);
  if (prefix < 8 || prefix > 30) return 'the prefix length must be from /8 to /30 (room for a gateway and a container)';
  const size = 2 ** (32 - prefix);
  if (address % size !== 0) {
    return `host bits are set: the network of ${text} is ${formatIpv4(address - (address % size))}/${prefix}`;
  }
  return { network: address, prefix, size };
}

const ipv4 = z.string({ error: 'expected an IPv4 address as a string' }).check(z.refine((s) => parseIpv4(s) !== undefined, {
  error: "expected an IPv4 address such as '10.88.0.10'",
}));
const anyIp = z.string({ error: 'expected an IP address as a string' }).check(z.refine((s) => net().isIP(s) !== 0, {
  error: "expected an IPv4 or IPv6 address such as '1.1.1.1' or '2606:4700::1111'",
}));
const portNumber = z.int({ error: 'expected a port as a whole number from 1 to 65535' }).check(z.gte(1, { error: 'ports are 1-65535' }), z.lte(65535, { error: 'ports are 1-65535' }));

const publishedPort = z.strictObject({
  /** The port on the host: on every host address, 127.0.0.1 included. */
  host: portNumber,
  /** The port inside the container. */
  container: portNumber,
  /** @default 'tcp' */
  protocol: z._default(z.enum(['tcp', 'udp'], { error: "expected protocol 'tcp' or 'udp'" }), 'tcp'),
});

/** The network of a container. */
export const networkSchema = z.strictObject({
  /**
   * 'none': an own network namespace with only loopback; 'host': the host's network (no net
   * namespace); 'bridge': an own namespace joined to a host bridge by a veth pair.
   * @default 'none' with 'net' in namespaces, else 'host'
   */
  mode: z.optional(z.enum(NETWORK_MODES, { error: `expected mode ${NETWORK_MODES.map((m) => `'${m}'`).join(', ')}` })),
  /** The host bridge (mode 'bridge'), created when missing and removed with its last container. @default 'unshared0' */
  bridge: z.optional(z.string({ error: 'expected bridge as a string' }).check(
    z.regex(INTERFACE_NAME_PATTERN, { error: 'bridge must be an interface name: 1-15 letters, digits, _ . or -' }),
    z.refine((s) => s !== '.' && s !== '..', { error: "bridge cannot be '.' or '..'" }),
  )),
  /** The bridge's IPv4 subnet; the gateway, on the bridge, is its first address. @default '10.88.0.0/24' */
  subnet: z.optional(z.string({ error: 'expected subnet as a string' }).check(z.superRefine((s, ctx) => {
    const parsed = parseSubnet(s);
    if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
  }))),
  /** The container's address in the subnet. @default allocated from the subnet at start */
  ip: z.optional(ipv4),
  /** Published ports: host port -> container port. @default [] */
  ports: z._default(z.array(publishedPort), []),
  /** Masquerade the container's outbound traffic behind the host's address. @default false */
  nat: z._default(z.boolean({ error: 'expected nat as true or false' }), false),
  /** Nameservers written to the container's /etc/resolv.conf. @default [] (the rootfs's own file) */
  dns: z._default(z.array(anyIp), []),
  /** Extra /etc/hosts entries: name -> address, e.g. { db: '10.88.0.11' }. @default {} */
  hosts: z._default(z.record(
    z.string().check(z.regex(HOST_NAME_PATTERN, { error: 'host names must be DNS labels (letters, digits, -) joined by dots' })),
    anyIp,
  ), {}),
});

export type NetworkSpec = z.output<typeof networkSchema>;

/** The mode a spec asks for, given its namespaces. */
export function networkMode(network: NetworkSpec | undefined, namespaces: readonly string[]): NetworkMode {
  return network?.mode ?? (namespaces.includes('net') ? 'none' : 'host');
}

/** Cross-field checks: the mode against `namespaces`, bridge-only fields, ip inside the subnet. */
export function checkNetwork(network: NetworkSpec | undefined, namespaces: readonly string[], ctx: z.core.$RefinementCtx): void {
  if (network === undefined) return;
  const mode = networkMode(network, namespaces);
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path: ['network', ...path], message });
  if (mode === 'host' && namespaces.includes('net')) {
    issue(['mode'], "mode 'host' shares the host's network: remove 'net' from namespaces");
  }
  if (mode !== 'host' && !namespaces.includes('net')) {
    issue(['mode'], `mode '${mode}' needs the container's own network namespace: add 'net' to namespaces (or use mode 'host')`);
  }
  if (mode !== 'bridge') {
    for (const field of ['bridge', 'subnet', 'ip'] as const) {
      if (network[field] !== undefined) issue([field], `${field} needs mode 'bridge'`);
    }
    if (network.ports.length > 0) issue(['ports'], "published ports need mode 'bridge'");
    if (network.nat) issue(['nat'], "nat needs mode 'bridge'");
  }
  const seen = new Map<string, number>();
  network.ports.forEach((p, i) => {
    const key = `${p.protocol}/${p.host}`;
    if (seen.has(key)) issue(['ports', i, 'host'], `${p.protocol} port ${p.host} is already published by ports[${seen.get(key)}]`);
    seen.set(key, i);
  });
  const subnet = parseSubnet(network.subnet ?? DEFAULT_SUBNET);
  const ip = network.ip === undefined ? undefined : parseIpv4(network.ip);
  if (typeof subnet !== 'string' && ip !== undefined) {
    const cidr = network.subnet ?? DEFAULT_SUBNET;
    if (ip < subnet.network || ip >= subnet.network + subnet.size) {
      issue(['ip'], `${network.ip} is not in the subnet ${cidr}`);
    } else if (ip === subnet.network) {
      issue(['ip'], `${network.ip} is the network address of ${cidr}; use an address from ${formatIpv4(subnet.network + 2)}`);
    } else if (ip === subnet.network + subnet.size - 1) {
      issue(['ip'], `${network.ip} is the broadcast address of ${cidr}`);
    } else if (ip === subnet.network + 1) {
      issue(['ip'], `${network.ip} is the gateway (the bridge's own address) of ${cidr}`);
    }
  }
}
