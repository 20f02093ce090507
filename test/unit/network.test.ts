/**
 * network: the spec's checks (CIDR, addresses, ports, modes against namespaces) and the model's
 * derived names, gateway and allocation range.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveModel, type ContainerModel } from '../../src/model/model.js';
import { shortHash } from '../../src/model/network.js';
import { formatIpv4, parseIpv4, parseSubnet } from '../../src/spec/network.js';
import type { ContainerSpecInput } from '../../src/spec/schema.js';
import { formatProblems, validateSpec } from '../../src/spec/validate.js';
import { compile } from '../../src/compile.js';

const BASE = { name: 'web', rootfs: { dir: '/srv/rootfs/web' } } satisfies ContainerSpecInput;

function problems(input: Record<string, unknown>): string[] {
  const result = validateSpec({ ...BASE, ...input });
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

function model(input: Record<string, unknown> = {}): ContainerModel {
  const result = validateSpec({ ...BASE, ...input });
  if (!result.ok) assert.fail(formatProblems(result.problems));
  return resolveModel(result.spec);
}

const bridge = (network: Record<string, unknown> = {}) => ({ network: { mode: 'bridge', ...network } });

describe('network: addresses', () => {
  test('dotted quads parse strictly', () => {
    assert.equal(parseIpv4('10.88.0.1'), 0x0a580001);
    assert.equal(parseIpv4('255.255.255.255'), 0xffffffff);
    for (const bad of ['10.88.0', '10.88.0.256', '010.1.1.1', '1.2.3.4 ', 'a.b.c.d', '1..2.3', '']) {
      assert.equal(parseIpv4(bad), undefined, bad);
    }
    assert.equal(formatIpv4(0xffffffff), '255.255.255.255');
    assert.equal(formatIpv4(parseIpv4('192.168.1.20')!), '192.168.1.20');
  });

  test('subnets: CIDR form, /8 to /30, no host bits', () => {
    assert.deepEqual(parseSubnet('10.88.0.0/24'), { network: 0x0a580000, prefix: 24, size: 256 });
    assert.match(parseSubnet('10.88.0.5/24') as string, /host bits are set: the network of 10.88.0.5\/24 is 10.88.0.0\/24/);
    assert.match(parseSubnet('10.88.0.0/31') as string, /from \/8 to \/30/);
    assert.match(parseSubnet('10.0.0.0/7') as string, /from \/8 to \/30/);
    assert.match(parseSubnet('10.88.0.0') as string, /CIDR/);
    assert.match(parseSubnet('10.88.0.0/') as string, /CIDR/);
  });
});

describe('network: validation names the field', () => {
  test('a valid bridge spec has no problems', () => {
    assert.deepEqual(problems(bridge({ subnet: '10.89.0.0/16', ip: '10.89.3.4', ports: [{ host: 8080, container: 80 }], nat: true, dns: ['1.1.1.1', '2606:4700::1111'], hosts: { db: '10.89.0.11' } })), []);
  });

  test('subnet and ip', () => {
    assert.deepEqual(problems(bridge({ subnet: '10.88.0.1/24' })), ['network.subnet: host bits are set: the network of 10.88.0.1/24 is 10.88.0.0/24']);
    assert.deepEqual(problems(bridge({ ip: '10.89.0.10' })), ['network.ip: 10.89.0.10 is not in the subnet 10.88.0.0/24']);
    assert.deepEqual(problems(bridge({ ip: '10.88.0.0' })), ['network.ip: 10.88.0.0 is the network address of 10.88.0.0/24; use an address from 10.88.0.2']);
    assert.deepEqual(problems(bridge({ ip: '10.88.0.255' })), ['network.ip: 10.88.0.255 is the broadcast address of 10.88.0.0/24']);
    assert.deepEqual(problems(bridge({ ip: '10.88.0.1' })), ['network.ip: 10.88.0.1 is the gateway (the bridge\'s own address) of 10.88.0.0/24']);
    assert.deepEqual(problems(bridge({ ip: '10.88.0.300' })), ["network.ip: expected an IPv4 address such as '10.88.0.10'"]);
  });

  test('ports are 1-65535 and unique per protocol', () => {
    assert.deepEqual(problems(bridge({ ports: [{ host: 0, container: 80 }, { host: 8080, container: 65536 }] })), [
      'network.ports[0].host: ports are 1-65535',
      'network.ports[1].container: ports are 1-65535',
    ]);
    assert.deepEqual(problems(bridge({ ports: [{ host: 8080, container: 80 }, { host: 8080, container: 81, protocol: 'tcp' }, { host: 8080, container: 53, protocol: 'udp' }] })), [
      'network.ports[1].host: tcp port 8080 is already published by ports[0]',
    ]);
    assert.deepEqual(problems(bridge({ ports: [{ host: 1, container: 2, protocol: 'sctp' }] })), ["network.ports[0].protocol: expected protocol 'tcp' or 'udp'"]);
  });

  test('interface names fit 15 bytes and are safe words', () => {
    assert.deepEqual(problems(bridge({ bridge: 'a-very-long-bridge' })), ['network.bridge: bridge must be an interface name: 1-15 letters, digits, _ . or -']);
    assert.deepEqual(problems(bridge({ bridge: 'br 0' })), ['network.bridge: bridge must be an interface name: 1-15 letters, digits, _ . or -']);
    assert.deepEqual(problems(bridge({ bridge: '..' })), ["network.bridge: bridge cannot be '.' or '..'"]);
    assert.deepEqual(problems(bridge({ bridge: 'br-123456789012' })), []);
  });

  test('the mode against namespaces, and bridge-only fields', () => {
    assert.deepEqual(problems({ network: { mode: 'host' } }), ["network.mode: mode 'host' shares the host's network: remove 'net' from namespaces"]);
    assert.deepEqual(problems({ namespaces: ['mount', 'pid'], network: { mode: 'bridge' } }), [
      "network.mode: mode 'bridge' needs the container's own network namespace: add 'net' to namespaces (or use mode 'host')",
    ]);
    assert.deepEqual(problems({ network: { mode: 'none', ip: '10.88.0.2', nat: true, ports: [{ host: 1, container: 1 }] } }), [
      "network.ip: ip needs mode 'bridge'",
      "network.ports: published ports need mode 'bridge'",
      "network.nat: nat needs mode 'bridge'",
    ]);
    assert.deepEqual(problems({ namespaces: ['mount'], network: { mode: 'host', hosts: { db: '192.0.2.1' } } }), []);
  });

  test('dns and hosts', () => {
    assert.deepEqual(problems({ network: { dns: ['1.1.1'], hosts: { 'bad_name': '10.0.0.1', ok: 'x' } } }), [
      "network.dns[0]: expected an IPv4 or IPv6 address such as '1.1.1.1' or '2606:4700::1111'",
      'network.hosts.bad_name: host names must be DNS labels (letters, digits, -) joined by dots',
      "network.hosts.ok: expected an IPv4 or IPv6 address such as '1.1.1.1' or '2606:4700::1111'",
    ]);
  });
});

describe('network: the model', () => {
  test("the default is 'none' with the net namespace, 'host' without", () => {
    assert.equal(model().network.mode, 'none');
    assert.equal(model({ namespaces: ['mount', 'pid'] }).network.mode, 'host');
    assert.equal(model().network.bridge, null);
    assert.ok(model().unshareArgs.includes('--net'));
  });

  test('bridge: derived names, gateway and range; unshare does not make the net namespace', () => {
    const m = model(bridge({ ports: [{ host: 8080, container: 80 }] }));
    const b = m.network.bridge!;
    assert.equal(b.name, 'unshared0');
    assert.equal(b.netns, 'unshared-web');
    assert.equal(b.hostVeth, `us-${shortHash('web')}`);
    assert.ok(Buffer.byteLength(b.hostVeth) <= 15);
    assert.equal(b.containerIf, 'eth0');
    assert.equal(b.gateway, '10.88.0.1');
    assert.equal(formatIpv4(b.rangeFirst), '10.88.0.2');
    assert.equal(formatIpv4(b.rangeLast), '10.88.0.254');
    assert.equal(b.ip, null);
    assert.deepEqual(b.ports, [{ host: 8080, container: 80, protocol: 'tcp' }]);
    assert.equal(b.forwarding, true);
    assert.equal(b.nftTable, 'unshared-web');
    assert.equal(b.iptablesTag, 'unshared:web');
    assert.ok(b.iptablesChain.length + '-DNAT'.length <= 28, 'iptables chain names have at most 28 bytes');
    assert.ok(!m.unshareArgs.includes('--net'));
    assert.ok(m.tools.some((t) => t.name === 'nsenter') && m.tools.some((t) => t.name === 'flock'));
  });

  test('a /30 leaves exactly one address for a container', () => {
    const b = model(bridge({ subnet: '192.168.7.4/30' })).network.bridge!;
    assert.equal(b.gateway, '192.168.7.5');
    assert.equal(formatIpv4(b.rangeFirst), '192.168.7.6');
    assert.equal(formatIpv4(b.rangeLast), '192.168.7.6');
  });

  test('veth names differ between containers and stay the same between builds', () => {
    assert.notEqual(shortHash('web'), shortHash('db'));
    assert.equal(shortHash('web'), shortHash('web'));
    assert.match(shortHash('a'.repeat(63)), /^[0-9a-f]{8}$/);
  });

  test('/etc/hosts and /etc/resolv.conf lines', () => {
    const n = model(bridge({ dns: ['1.1.1.1'], hosts: { db: '10.88.0.11' } })).network;
    assert.deepEqual(n.hosts, ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback', '10.88.0.11 db']);
    assert.deepEqual(n.resolv, ['nameserver 1.1.1.1']);
    assert.equal(n.selfNames, 'web');
    assert.equal(model({ hostname: 'box', ...bridge() }).network.selfNames, 'box web');
    assert.equal(model().network.files, false);
  });
});

describe('network: the script', () => {
  test('no spec value is left unquoted, and the script is deterministic', () => {
    const spec = { ...BASE, ...bridge({ ports: [{ host: 8080, container: 80 }], nat: true, hosts: { db: '10.88.0.11' }, dns: ['1.1.1.1'] }) };
    const a = compile(spec);
    assert.equal(a, compile(spec));
    assert.match(a, /^NETNS=unshared-web$/m);
    assert.match(a, /nsenter --net=\/run\/netns\/"\$NETNS" --/);
    assert.match(a, /dnat to "\$CONTAINER_IP:"80/);
    assert.match(a, /write_lines "\$NETWORK_FILES_DIR\/hosts" '127.0.0.1 localhost'/);
  });

  test('a container without bridge has no firewall code', () => {
    const a = compile(BASE);
    assert.doesNotMatch(a, /nft /);
    assert.match(a, /^NETNS_ENTER=\(\)$/m);
  });
});
