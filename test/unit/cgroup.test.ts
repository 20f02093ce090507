/**
 * The cgroup formulas and the files each limit is written to, on v1 and on v2.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CPU_PERIOD_US,
  cgroupControllers,
  cgroupV1Writes,
  cgroupV2Writes,
  cpusToQuota,
  sharesToWeight,
  weightToShares,
  type CgroupWrite,
} from '../../src/model/cgroup.js';
import type { LimitsSpec } from '../../src/spec/schema.js';

describe('cpu.shares <-> cpu.weight', () => {
  test('known points of the conversion', () => {
    assert.equal(sharesToWeight(2), 1); // the smallest v1 shares
    assert.equal(sharesToWeight(262144), 10000); // the largest v1 shares
    assert.equal(sharesToWeight(1024), 39); // v1's default
    assert.equal(weightToShares(1), 2);
    assert.equal(weightToShares(10000), 262144);
    assert.equal(weightToShares(100), 2598); // v2's default
  });

  test('sharesToWeight(weightToShares(w)) === w for every weight 1..10000', () => {
    const wrong: number[] = [];
    for (let w = 1; w <= 10000; w++) {
      if (sharesToWeight(weightToShares(w)) !== w) wrong.push(w);
    }
    assert.deepEqual(wrong, []);
  });

  test('weightToShares gives the smallest shares that map back to the weight', () => {
    const wrong: number[] = [];
    for (let w = 2; w <= 10000; w++) {
      if (sharesToWeight(weightToShares(w) - 1) !== w - 1) wrong.push(w);
    }
    assert.deepEqual(wrong, []);
  });

  test('shares stay within the v1 range 2..262144 and grow with the weight', () => {
    let previous = 0;
    for (let w = 1; w <= 10000; w++) {
      const shares = weightToShares(w);
      assert.ok(Number.isInteger(shares) && shares >= 2 && shares <= 262144, `weight ${w} -> ${shares}`);
      assert.ok(shares > previous, `weight ${w} -> ${shares} is not above ${previous}`);
      previous = shares;
    }
  });

  test('every v1 shares value maps to a weight in 1..10000', () => {
    for (let shares = 2; shares <= 262144; shares += 97) {
      const weight = sharesToWeight(shares);
      assert.ok(Number.isInteger(weight) && weight >= 1 && weight <= 10000, `shares ${shares} -> ${weight}`);
    }
  });
});

describe('cpusToQuota', () => {
  const cases: [number, number][] = [
    [0.25, 25000],
    [0.5, 50000],
    [1, 100000],
    [1.5, 150000],
    [2.5, 250000],
    [0.333, 33300],
    [0.29, 29000], // 0.29 * 100000 is 28999.999999999996 in floating point
    [0.015, 1500],
    [0.01, 1000],
    [0.005, 1000], // clamped: the kernel refuses a quota below 1 ms
    [0.0001, 1000],
  ];
  for (const [cpus, quota] of cases) {
    test(`${cpus} CPUs is a quota of ${quota} us per ${CPU_PERIOD_US} us`, () => {
      assert.equal(cpusToQuota(cpus), quota);
    });
  }

  test('the period is the kernel default of 100 ms', () => {
    assert.equal(CPU_PERIOD_US, 100_000);
  });
});

const FULL: LimitsSpec = {
  memory: '128m',
  memoryHigh: '64m',
  cpus: 0.5,
  cpuWeight: 100,
  pids: 64,
  io: [
    { device: '8:0', readBps: '10m', writeBps: 1048576, readIops: 100, writeIops: 200 },
    { device: '8:16', writeIops: 5 },
  ],
};

const triples = (writes: CgroupWrite[]) => writes.map((w) => [w.controller, w.file, w.value]);

describe('cgroup writes for a full limits object', () => {
  test('v2: files, values and order', () => {
    assert.deepEqual(triples(cgroupV2Writes(FULL)), [
      ['memory', 'memory.max', '134217728'],
      ['memory', 'memory.high', '67108864'],
      ['cpu', 'cpu.max', '50000 100000'],
      ['cpu', 'cpu.weight', '100'],
      ['pids', 'pids.max', '64'],
      ['io', 'io.max', '8:0 rbps=10485760 wbps=1048576 riops=100 wiops=200'],
      ['io', 'io.max', '8:16 wiops=5'],
    ]);
  });

  test('v1: files, values and order (the CFS period before the quota)', () => {
    assert.deepEqual(triples(cgroupV1Writes(FULL)), [
      ['memory', 'memory.limit_in_bytes', '134217728'],
      ['memory', 'memory.soft_limit_in_bytes', '67108864'],
      ['cpu', 'cpu.cfs_period_us', '100000'],
      ['cpu', 'cpu.cfs_quota_us', '50000'],
      ['cpu', 'cpu.shares', '2598'],
      ['pids', 'pids.max', '64'],
      ['io', 'blkio.throttle.read_bps_device', '8:0 10485760'],
      ['io', 'blkio.throttle.write_bps_device', '8:0 1048576'],
      ['io', 'blkio.throttle.read_iops_device', '8:0 100'],
      ['io', 'blkio.throttle.write_iops_device', '8:0 200'],
      ['io', 'blkio.throttle.write_iops_device', '8:16 5'],
    ]);
  });

  test('every write says why it is there, in one line', () => {
    for (const write of [...cgroupV2Writes(FULL), ...cgroupV1Writes(FULL)]) {
      assert.ok(write.why.length > 0, `${write.file} has no why`);
      assert.doesNotMatch(write.why, /[\n\r]|undefined|NaN/, write.why);
    }
    assert.match(cgroupV2Writes(FULL)[0]!.why, /128 MiB/);
    assert.match(cgroupV2Writes(FULL)[2]!.why, /50% of one CPU/);
  });

  test('no limits, no writes', () => {
    assert.deepEqual(cgroupV2Writes({}), []);
    assert.deepEqual(cgroupV1Writes({}), []);
    assert.deepEqual(cgroupV2Writes({ io: [] }), []);
  });

  test('each limit alone writes only its own files', () => {
    assert.deepEqual(triples(cgroupV2Writes({ pids: 1 })), [['pids', 'pids.max', '1']]);
    assert.deepEqual(triples(cgroupV1Writes({ cpuWeight: 1 })), [['cpu', 'cpu.shares', '2']]);
    assert.deepEqual(triples(cgroupV2Writes({ cpus: 0.001 })), [['cpu', 'cpu.max', '1000 100000']]);
    assert.deepEqual(triples(cgroupV1Writes({ memory: 4194304 })), [['memory', 'memory.limit_in_bytes', '4194304']]);
    assert.deepEqual(triples(cgroupV2Writes({ memoryHigh: '1.5g' })), [['memory', 'memory.high', '1610612736']]);
  });

  test('controllers: those with a limit are required; memory, cpuacct and pids are always there', () => {
    assert.deepEqual(cgroupControllers({}), [
      { name: 'memory', required: false },
      { name: 'cpuacct', required: false },
      { name: 'pids', required: false },
    ]);
    assert.deepEqual(cgroupControllers({ cpus: 1 }), [
      { name: 'memory', required: false },
      { name: 'cpu', required: true },
      { name: 'cpuacct', required: false },
      { name: 'pids', required: false },
    ]);
    assert.deepEqual(cgroupControllers(FULL), [
      { name: 'memory', required: true },
      { name: 'cpu', required: true },
      { name: 'cpuacct', required: false },
      { name: 'pids', required: true },
      { name: 'io', required: true },
    ]);
  });
});
