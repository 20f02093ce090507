/**
 * Sizes as written in specs (parseSize) and as shown to people (formatBytes).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, parseSize, SIZE_PATTERN } from '../../src/spec/units.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const PiB = 1024 * TiB;

describe('parseSize', () => {
  const good: [string | number, number][] = [
    ['128m', 134217728],
    ['128m', 128 * MiB],
    ['1g', GiB],
    ['1g', 1073741824],
    ['512KiB', 524288],
    ['1.5g', 1610612736],
    ['1.5g', 1.5 * GiB],
    ['0.5k', 512],
    ['2t', 2 * TiB],
    ['7p', 7 * PiB],
    ['0', 0],
    ['4096', 4096],
    ['1b', 1],
    // fractions of a byte are dropped
    ['1.5', 1],
    ['0.1k', 102],
    ['1.1m', 1153433],
    // units are binary, whatever the spelling
    ['1k', KiB],
    ['1kb', KiB],
    ['1kib', KiB],
    ['1ki', KiB],
    ['10MB', 10 * MiB],
    ['10Mi', 10 * MiB],
    ['10MiB', 10 * MiB],
    // a space between the number and the unit, and around the whole
    ['512 MiB', 512 * MiB],
    [' 128m ', 128 * MiB],
    // plain numbers are bytes
    [0, 0],
    [1024, 1024],
    [134217728, 134217728],
    [2 ** 53 - 1, 2 ** 53 - 1],
    ['9007199254740991', 9007199254740991],
    ['8191t', 8191 * TiB],
  ];
  for (const [input, bytes] of good) {
    test(`${JSON.stringify(input)} is ${bytes} bytes`, () => {
      assert.equal(parseSize(input), bytes);
    });
  }

  test('unit letters are case-insensitive', () => {
    for (const unit of ['k', 'm', 'g', 't', 'p']) {
      const expected = parseSize(`3${unit}`);
      assert.equal(typeof expected, 'number');
      for (const spelling of [unit.toUpperCase(), `${unit}b`, `${unit.toUpperCase()}B`, `${unit}iB`, `${unit.toUpperCase()}IB`, `${unit}I`, `${unit.toUpperCase()}i`]) {
        assert.equal(parseSize(`3${spelling}`), expected, `3${spelling}`);
      }
    }
  });

  test('every unit is the previous one times 1024', () => {
    const units = ['', 'k', 'm', 'g', 't', 'p'];
    for (let i = 1; i < units.length; i++) {
      assert.equal(parseSize(`1${units[i]!}`), 1024 * parseSize(`1${units[i - 1]!}`)!, `unit ${units[i]}`);
    }
  });

  const bad: (string | number)[] = [
    '', ' ', 'abc', 'm', 'k1', '-1', '-1m', '+1m', '1.', '.5', '1e3', '1e', '1x', '1mm', '1 k b', '1kk', '1,5g', '0x10',
    'Infinity', 'NaN', '１', '1m!', '128 megabytes', '1gib2',
    -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY,
  ];
  for (const input of bad) {
    test(`${typeof input === 'string' ? JSON.stringify(input) : String(input)} is not a size`, () => {
      assert.equal(parseSize(input), undefined);
    });
  }

  test('sizes of 2^53 bytes and more are refused, not rounded', () => {
    assert.equal(parseSize(2 ** 53), undefined);
    assert.equal(parseSize(2 ** 60), undefined);
    assert.equal(parseSize('9007199254740992'), undefined);
    assert.equal(parseSize('9007199254740993'), undefined);
    assert.equal(parseSize('99999999999999999999'), undefined);
    assert.equal(parseSize('8p'), undefined); // exactly 2^53
    assert.equal(parseSize('8192t'), undefined);
    assert.equal(parseSize('1000000p'), undefined);
    assert.equal(parseSize(`${'9'.repeat(400)}`), undefined); // Number() gives Infinity
  });

  test('whatever parseSize accepts as a string matches SIZE_PATTERN once trimmed, and the reverse within range', () => {
    for (const text of ['128m', '1.5g', '512 KiB', '4096', '0', '10MB']) {
      assert.ok(SIZE_PATTERN.test(text), text);
      assert.notEqual(parseSize(text), undefined, text);
    }
    for (const text of ['abc', '1.', '-1', '1e3']) {
      assert.equal(SIZE_PATTERN.test(text), false, text);
    }
  });
});

describe('formatBytes', () => {
  const cases: [number, string][] = [
    [0, '0 bytes'],
    [1023, '1023 bytes'],
    [1024, '1 KiB'],
    [1536, '1536 bytes'],
    [524288, '512 KiB'],
    [134217728, '128 MiB'],
    [GiB, '1 GiB'],
    [1610612736, '1536 MiB'],
    [3 * TiB, '3 TiB'],
    [PiB, '1 PiB'],
    [1024 * PiB, '1024 PiB'],
  ];
  for (const [bytes, text] of cases) {
    test(`${bytes} is written ${text}`, () => {
      assert.equal(formatBytes(bytes), text);
    });
  }

  test('parseSize reads back what formatBytes writes', () => {
    for (const bytes of [0, 1, 1000, 1024, 4 * MiB, 1.5 * GiB, 7 * PiB]) {
      const text = formatBytes(bytes).replace(' bytes', '');
      assert.equal(parseSize(text), bytes, text);
    }
  });
});
