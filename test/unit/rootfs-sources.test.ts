/**
 * Image sources of the rootfs (url, oci, layers): how the spec's forms become the model's list
 * of layer sources, which host tools the script then needs, and the targets that refuse them.
 * The schema's error texts are pinned by test/fixtures/invalid/{image-sources,rootfs-*}; the
 * generated code runs for real in test/bats/rootfs-sources.bats.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../../src/compile.js';
import { DEFAULT_LAYER_CACHE, resolveModel } from '../../src/model/model.js';
import { containerSpecSchema, type ContainerSpecInput } from '../../src/spec/schema.js';
import { validateSpec } from '../../src/spec/validate.js';
import { TargetError } from '../../src/targets/target.js';
import { bash, cli } from './support.js';

const HEX = 'b3070a3f339f6a3331ae218a9b50d4609b344c97f3d8b5aca4df8c5abf5b9dd2';
const model = (rootfs: ContainerSpecInput['rootfs']) => resolveModel(containerSpecSchema.parse({ name: 'img', rootfs }));
const toolNames = (rootfs: ContainerSpecInput['rootfs']) => model(rootfs).tools.map((t) => t.name);

describe('rootfs sources in the model', () => {
  test('dir and tar stay as they are', () => {
    assert.deepEqual(model({ dir: '/srv/r' }).rootfs, { dir: '/srv/r' });
    assert.deepEqual(model({ tar: '/srv/r.tar' }).rootfs, { tar: '/srv/r.tar' });
  });

  test('url and oci alone are a list of one layer source, named rootfs in messages', () => {
    assert.deepEqual(model({ url: 'https://h/r.tar.gz', sha256: `sha256:${HEX}` }).rootfs, {
      layers: [{ origin: 'rootfs', url: { url: 'https://h/r.tar.gz', sha256: HEX } }],
    });
    assert.deepEqual(model({ oci: '/srv/oci' }).rootfs, { layers: [{ origin: 'rootfs', oci: { layout: '/srv/oci', ref: 'latest' } }] });
  });

  test('layers keep their order, bottom first, each named by its index', () => {
    const m = model({ layers: [{ oci: '/o', ref: 'v1' }, { url: 'http://h/a.tar', sha256: HEX }, { tar: '/t.tar' }, { dir: '/d' }] });
    assert.deepEqual(m.rootfs, {
      layers: [
        { origin: 'rootfs.layers[0]', oci: { layout: '/o', ref: 'v1' } },
        { origin: 'rootfs.layers[1]', url: { url: 'http://h/a.tar', sha256: HEX } },
        { origin: 'rootfs.layers[2]', tar: '/t.tar' },
        { origin: 'rootfs.layers[3]', dir: '/d' },
      ],
    });
    assert.equal(m.layerCache, DEFAULT_LAYER_CACHE);
    assert.equal(DEFAULT_LAYER_CACHE, '/var/lib/unshared/layers');
  });

  test('the sha256 is accepted bare or with its sha256: prefix, in lowercase only', () => {
    for (const sha256 of [HEX, `sha256:${HEX}`]) assert.ok(validateSpec({ name: 'a', rootfs: { url: 'http://h/a', sha256 } }).ok);
    for (const sha256 of [HEX.toUpperCase(), HEX.slice(1), `sha512:${HEX}`, `${HEX}0`, '']) {
      const result = validateSpec({ name: 'a', rootfs: { url: 'http://h/a', sha256 } });
      assert.ok(!result.ok && result.problems.some((p) => p.path === 'rootfs.sha256'), `${sha256} is refused at rootfs.sha256`);
    }
  });

  test('urls that could not be passed safely or are not http(s) are refused at the url field', () => {
    for (const url of ['ftp://h/a', 'file:///etc/passwd', 'http://h/a b', "http://h/it's", 'http://h/a\\b', 'http://h/a"b', '-o/tmp/x', 'http://h/\n']) {
      const result = validateSpec({ name: 'a', rootfs: { layers: [{ url, sha256: HEX }] } });
      assert.ok(!result.ok && result.problems.some((p) => p.path === 'rootfs.layers[0].url'), `${JSON.stringify(url)} is refused`);
    }
  });
});

describe('the tools an image source needs', () => {
  test('a dir rootfs needs none of them', () => {
    const names = toolNames({ dir: '/r' });
    for (const tool of ['tar', 'sha256sum', 'setfattr', 'jq', 'curl', 'mountpoint']) assert.ok(!names.includes(tool), tool);
  });

  test('a url needs curl, or wget instead, and what unpacks a layer', () => {
    const tools = model({ url: 'http://h/a', sha256: HEX }).tools;
    const curl = tools.find((t) => t.name === 'curl');
    assert.deepEqual(curl?.alternatives?.map((t) => t.name), ['wget']);
    for (const tool of ['tar', 'sha256sum', 'mktemp', 'find', 'mknod', 'setfattr', 'mv', 'mountpoint']) {
      assert.ok(tools.some((t) => t.name === tool), tool);
    }
    assert.ok(!tools.some((t) => t.name === 'jq'));
  });

  test('an oci layout needs jq; every tool has a package for each distribution family', () => {
    const tools = model({ layers: [{ oci: '/o' }, { url: 'http://h/a', sha256: HEX }] }).tools;
    assert.ok(tools.some((t) => t.name === 'jq'));
    for (const tool of [...tools, ...tools.flatMap((t) => t.alternatives ?? [])]) {
      assert.ok(tool.debian && tool.alpine && tool.rhel, `${tool.name} lacks a package name`);
    }
    assert.equal(new Set(tools.map((t) => t.name)).size, tools.length, 'no tool is listed twice');
  });

  test('the preflight accepts wget where curl is missing, and names both when neither is there', () => {
    const script = compile({ name: 'img', rootfs: { url: 'http://h/a', sha256: HEX } });
    const dir = mkdtempSync(join(tmpdir(), 'unshared-preflight-'));
    try {
      const file = join(dir, 'img.sh');
      writeFileSync(file, script);
      // Only the require_tool function is taken from the script; `command -v` is answered by a
      // stub that knows the tools listed in HAVE.
      const probe = (have: string) => bash(['-c', `
        eval "$(sed -n '/^require_tool() {/,/^}/p' "$1")"
        command() { [[ $1 == -v && " $HAVE " == *" $2 "* ]]; }
        MISSING_TOOLS=()
        ${script.split('\n').filter((l) => /^\s*require_tool curl /.test(l)).join('\n')}
        printf '%s\\n' "\${MISSING_TOOLS[@]}"`, '_', file], { env: { ...process.env, HAVE: have } });
      assert.equal(probe('curl').stdout.toString(), '\n');
      assert.equal(probe('wget').stdout.toString(), '\n');
      assert.match(probe('').stdout.toString(), /^curl \(Debian\/Ubuntu: curl; Alpine: curl; RHEL\/Fedora: curl\), or instead: wget\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('targets other than the script', () => {
  for (const target of ['oci', 'runbook'] as const) {
    test(`${target} refuses image sources, naming rootfs`, () => {
      assert.throws(
        () => compile({ name: 'img', rootfs: { url: 'http://h/a', sha256: HEX } }, { target }),
        (error: unknown) => error instanceof TargetError && /rootfs: .*\(url, oci, layers\)/.test(error.message),
      );
    });
  }
});

describe('unshared build with a bad digest', () => {
  test('exits 2, names the field, and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unshared-digest-'));
    try {
      const spec = join(dir, 'bad.json');
      writeFileSync(spec, JSON.stringify({ name: 'bad', rootfs: { layers: [{ dir: '/d' }, { url: 'https://h/a.tar', sha256: 'abc' }] } }));
      const result = cli(['build', spec, '-o', join(dir, 'bad.sh')]);
      assert.equal(result.status, 2);
      assert.match(result.stderr, /rootfs\.layers\[1\]\.sha256: expected sha256 as 64 lowercase hex digits/);
      assert.deepEqual(readdirSync(dir), ['bad.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
