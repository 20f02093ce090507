/**
 * The network plan of a container: every name the script creates (network namespace, veth,
 * firewall table and chains), the bridge's gateway and the range addresses are allocated
 * from, and the files bind-mounted over /etc/hosts and /etc/resolv.conf. Plain data: the
 * script only places these values.
 */
import { crypto } from '../lazy.js';
import type { ContainerSpec } from '../spec/schema.js';
import {
  DEFAULT_BRIDGE, DEFAULT_SUBNET, INTERFACE_NAME_PATTERN, formatIpv4, networkMode, parseIpv4, parseSubnet, type NetworkMode,
} from '../spec/network.js';

export interface PublishedPort {
  host: number;
  container: number;
  protocol: 'tcp' | 'udp';
}

export interface BridgePlan {
  /** The host bridge. */
  name: string;
  /** The named network namespace (/run/netns/NAME), created before the container starts. */
  netns: string;
  /** The host end of the veth pair: `us-` and 8 hex digits of a hash of the container name. */
  hostVeth: string;
  /** The container end, inside the namespace. */
  containerIf: string;
  /** The subnet, normalised, and its prefix length. */
  subnet: string;
  prefix: number;
  /** The bridge's own address: the subnet's first; the container's default route. */
  gateway: string;
  /** A fixed address from the spec, or null: allocated at start between rangeFirst and rangeLast. */
  ip: string | null;
  /** The allocation range as 32-bit numbers (the script turns them into dotted quads). */
  rangeFirst: number;
  rangeLast: number;
  ports: PublishedPort[];
  nat: boolean;
  /** Routing between interfaces is needed: ports from outside and NAT (net.ipv4.ip_forward). */
  forwarding: boolean;
  /** Firewall rules are needed (ports or NAT). */
  firewall: boolean;
  /** The nftables table of this container (family ip): its rules, and nothing else's. */
  nftTable: string;
  /** The iptables fallback: this container's chains, and the comment that tags its jumps. */
  iptablesChain: string;
  iptablesTag: string;
}

export interface NetworkModel {
  mode: NetworkMode;
  /** null unless mode is 'bridge'. */
  bridge: BridgePlan | null;
  /** Lines of the container's /etc/hosts (its own line, on its bridge address, is added at run time), or null to keep the rootfs's. */
  hosts: string[] | null;
  /** The container's /etc/hosts names itself by these, on its bridge address. */
  selfNames: string;
  /** Lines of the container's /etc/resolv.conf, or null to keep the rootfs's. */
  resolv: string[] | null;
  /** Files are written for the container, under its state directory. */
  files: boolean;
  /** The script sets up firewall rules (published ports or NAT). */
  firewall: boolean;
}

/** 8 hex digits naming a container's interfaces and chains: names fit the kernel's 15 bytes. */
export function shortHash(name: string): string {
  return crypto().createHash('sha256').update(name).digest('hex').slice(0, 8);
}

export function resolveNetwork(spec: ContainerSpec, hostname: string | null): NetworkModel {
  const network = spec.network;
  const mode = networkMode(network, spec.namespaces);
  let bridge: BridgePlan | null = null;
  if (mode === 'bridge' && network) {
    const subnetText = network.subnet ?? DEFAULT_SUBNET;
    const subnet = parseSubnet(subnetText);
    if (typeof subnet === 'string') throw new Error(`internal: invalid subnet ${subnetText} passed validation`);
    const hash = shortHash(spec.name);
    const hostVeth = `us-${hash}`;
    if (!INTERFACE_NAME_PATTERN.test(hostVeth)) throw new Error(`internal: ${hostVeth} is not a valid interface name`);
    const ports = network.ports.map((p) => ({ host: p.host, container: p.container, protocol: p.protocol }));
    bridge = {
      name: network.bridge ?? DEFAULT_BRIDGE,
      netns: `unshared-${spec.name}`,
      hostVeth,
      containerIf: 'eth0',
      subnet: `${formatIpv4(subnet.network)}/${subnet.prefix}`,
      prefix: subnet.prefix,
      gateway: formatIpv4(subnet.network + 1),
      ip: network.ip === undefined ? null : formatIpv4(parseIpv4(network.ip)!),
      rangeFirst: subnet.network + 2,
      rangeLast: subnet.network + subnet.size - 2,
      ports,
      nat: network.nat,
      forwarding: network.nat || ports.length > 0,
      firewall: network.nat || ports.length > 0,
      nftTable: `unshared-${spec.name}`,
      iptablesChain: `UNSHARED-${hash}`,
      iptablesTag: `unshared:${spec.name}`,
    };
  }
  const extra = Object.entries(network?.hosts ?? {}).map(([name, address]) => `${address} ${name}`);
  const hosts = mode === 'bridge' || extra.length > 0
    ? ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback', ...extra]
    : null;
  const resolv = network && network.dns.length > 0 ? network.dns.map((address) => `nameserver ${address}`) : null;
  const selfNames = [...new Set([hostname ?? spec.name, spec.name])].join(' ');
  return { mode, bridge, hosts, selfNames, resolv, files: hosts !== null || resolv !== null, firewall: bridge?.firewall ?? false };
}
