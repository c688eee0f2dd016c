import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { getBackend } from "../../src/engine/index.js";
import { Adam } from "../../src/nn/adam.js";
import { ResNet } from "../../src/nn/resnet.js";
import { crc32 } from "../../src/nn/crc32.js";
import { CHECKSUM_KEY, decodeSafetensors, encodeSafetensors } from "../../src/nn/safetensors.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { fastCrc32, loadNetwork, readSafetensorsFile, saveNetwork, writeSafetensorsFile } from "../../src/train/checkpoint.js";

const be = getBackend();
const cfg = { inDim: 6, width: 16, depth: 8, heads: [{ name: "out", dim: 3 }], maxBatch: 8 };

function trained(seed: number): { net: ResNet; adam: Adam } {
  const net = new ResNet(be, cfg);
  net.init(new Rng(keyFromSeed(seed)));
  const adam = new Adam(be, net.params);
  const rng = new Rng(keyFromSeed(seed + 1));
  const x = Float32Array.from({ length: 8 * 6 }, () => rng.normal());
  const d = Float32Array.from({ length: 8 * 3 }, () => rng.normal());
  for (let i = 0; i < 3; i++) {
    net.forward(x, 8);
    net.params.zeroGrad();
    net.backward([d]);
    adam.update();
  }
  return { net, adam };
}

describe("safetensors", () => {
  test("encode → decode round trip, with the format's 8-byte little-endian header length", () => {
    const t = new Map([
      ["a.weight", { dtype: "F32" as const, shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) }],
      ["b", { dtype: "I32" as const, shape: [2], data: Int32Array.from([-7, 9]) }],
    ]);
    const bytes = encodeSafetensors(t, { k: "v" });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    assert.deepEqual(header["a.weight"], { dtype: "F32", shape: [2, 3], data_offsets: [0, 24] });
    assert.deepEqual(header.b, { dtype: "I32", shape: [2], data_offsets: [24, 32] });
    assert.equal((8 + n) % 8, 0);
    const back = decodeSafetensors(bytes);
    assert.deepEqual(Array.from(back.tensors.get("a.weight")!.data), [1, 2, 3, 4, 5, 6.5]);
    assert.deepEqual(Array.from(back.tensors.get("b")!.data), [-7, 9]);
    assert.equal(back.metadata.k, "v");
  });
  test("corrupt input gets errors that say what is wrong", () => {
    assert.throws(() => decodeSafetensors(new Uint8Array(3)), /shorter than the 8-byte header/);
    const bytes = encodeSafetensors(new Map([["x", { dtype: "F32" as const, shape: [4], data: new Float32Array(4) }]]));
    assert.throws(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4)), /truncated/);
    const bad = Uint8Array.from(bytes);
    bad[9] = 0x7b; // break the JSON
    bad[10] = 0x7b;
    assert.throws(() => decodeSafetensors(bad), /not valid JSON/);
  });
});

describe("network checkpoints", () => {
  const dir = mkdtempSync(join(tmpdir(), "fathom-ckpt-"));
  test("save → load reproduces outputs and Adam state bit for bit", () => {
    const { net, adam } = trained(1);
    const path = join(dir, "net.safetensors");
    saveNetwork(path, net, adam);
    const other = new ResNet(be, cfg);
    other.init(new Rng(keyFromSeed(77)));
    const otherAdam = new Adam(be, other.params);
    loadNetwork(path, other, otherAdam);
    const x = Float32Array.from({ length: 8 * 6 }, (_, i) => Math.sin(i));
    const a = Float32Array.from(net.forward(x, 8)[0]);
    const b = other.forward(x, 8)[0];
    assert.deepEqual(Array.from(b), Array.from(a));
    assert.deepEqual(Array.from(otherAdam.m), Array.from(adam.m));
    assert.deepEqual(Array.from(otherAdam.v), Array.from(adam.v));
    assert.equal(otherAdam.step, 3);
  });
  test("an existing file is never overwritten", () => {
    const { net } = trained(2);
    const path = join(dir, "keep.safetensors");
    writeFileSync(path, "user data");
    assert.throws(() => saveNetwork(path, net), /refusing to overwrite/);
    assert.equal(readFileSync(path, "utf8"), "user data");
  });
  test("corrupt and mismatched files get clear errors and leave the network unchanged", () => {
    const { net } = trained(3);
    const path = join(dir, "ok.safetensors");
    saveNetwork(path, net);
    const target = new ResNet(be, cfg);
    target.init(new Rng(keyFromSeed(5)));
    const before = Float32Array.from(target.params.data);
    const bytes = readFileSync(path);
    const truncated = join(dir, "truncated.safetensors");
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
    assert.throws(() => loadNetwork(truncated, target), /truncated.*damaged/);
    const junk = join(dir, "junk.safetensors");
    writeFileSync(junk, "this is not a checkpoint at all");
    assert.throws(() => loadNetwork(junk, target), /corrupt|not a safetensors/);
    const wider = new ResNet(be, { ...cfg, width: 32 });
    const widerPath = join(dir, "wider.safetensors");
    saveNetwork(widerPath, wider);
    assert.throws(() => loadNetwork(widerPath, target), /shape \[6, 32\] but the network expects \[6, 16\]/);
    const deeper = new ResNet(be, { ...cfg, depth: 12 });
    const deeperPath = join(dir, "deeper.safetensors");
    saveNetwork(deeperPath, deeper);
    assert.throws(() => loadNetwork(deeperPath, target), /lacks|holds/);
    assert.throws(() => loadNetwork(join(dir, "missing.safetensors"), target), /does not exist/);
    assert.deepEqual(Array.from(target.params.data), Array.from(before));
  });
});

/** Offset in the file of a tensor's data, from its header. */
function dataOffset(bytes: Uint8Array, name: string): number {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  return 8 + n + header[name].data_offsets[0];
}

describe("checksums (issue 10: a flipped byte must not load silently)", () => {
  const dir = mkdtempSync(join(tmpdir(), "fathom-crc-"));
  test("CRC-32: the standard check value, incremental, same as zlib's", () => {
    assert.equal(crc32(new TextEncoder().encode("123456789")).toString(16), "cbf43926");
    const a = Uint8Array.from({ length: 1001 }, (_, i) => (i * 37) & 0xff);
    assert.equal(crc32(a.subarray(500), crc32(a.subarray(0, 500))), crc32(a));
    assert.equal(fastCrc32(a), crc32(a));
  });
  test("a flipped data byte is rejected naming the file and the tensor; the network is unchanged", () => {
    const { net, adam } = trained(4);
    const path = join(dir, "net.safetensors");
    saveNetwork(path, net, adam);
    const bytes = readFileSync(path);
    const name = "blocks.1.dense.0.weight";
    const bad = Uint8Array.from(bytes);
    bad[dataOffset(bad, name) + 5] ^= 0x40;
    const badPath = join(dir, "flipped.safetensors");
    writeFileSync(badPath, bad);
    const target = new ResNet(be, cfg);
    target.init(new Rng(keyFromSeed(9)));
    const before = Float32Array.from(target.params.data);
    assert.throws(
      () => loadNetwork(badPath, target, new Adam(be, target.params)),
      (e: Error) => e.message.includes(badPath) && e.message.includes(`tensor "${name}"`) && /CRC-32/.test(e.message) && /damaged/.test(e.message),
    );
    assert.deepEqual(Array.from(target.params.data), Array.from(before));
    // The in-memory decoder checks too.
    assert.throws(() => decodeSafetensors(bad, "buf"), new RegExp(`tensor "${name.replace(/\./g, "\\.")}" fails its CRC-32 check`));
    // So is a changed metadata value (e.g. the training-loop state).
    const text = new TextDecoder("latin1").decode(bytes);
    const i = text.indexOf('"kind":"resnet"');
    assert.ok(i > 0);
    const meta = Uint8Array.from(bytes);
    meta.set(new TextEncoder().encode('"kind":"rosnet"'), i);
    const metaPath = join(dir, "meta.safetensors");
    writeFileSync(metaPath, meta);
    assert.throws(() => loadNetwork(metaPath, target), /metadata fails the CRC-32 check/);
  });
  test("files without checksums (older checkpoints) still load; the checksum key is not returned as metadata", () => {
    const { net, adam } = trained(5);
    const path = join(dir, "with.safetensors");
    saveNetwork(path, net, adam);
    const withSums = readSafetensorsFile(path);
    assert.equal(withSums.metadata[CHECKSUM_KEY], undefined);
    const oldPath = join(dir, "old.safetensors");
    writeFileSync(oldPath, encodeSafetensors(withSums.tensors, withSums.metadata, { checksums: false }));
    assert.ok(!readFileSync(oldPath).includes(CHECKSUM_KEY));
    const target = new ResNet(be, cfg);
    const targetAdam = new Adam(be, target.params);
    loadNetwork(oldPath, target, targetAdam);
    assert.deepEqual(Array.from(target.params.data), Array.from(net.params.data));
    assert.deepEqual(Array.from(targetAdam.v), Array.from(adam.v));
    assert.throws(() => writeSafetensorsFile(join(dir, "x.safetensors"), new Map(), { [CHECKSUM_KEY]: "{}" }), /reserved/);
  });
});
