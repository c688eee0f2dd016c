// Checkpoints over 2 GiB (issue 10): an actor + critic at depth 1024, width 256, with Adam state
// is about 2.4 GB, more than readFileSync or one Buffer can hold. The reader and writer stream.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readSafetensorsFile, writeSafetensorsFile } from "../../src/train/checkpoint.js";

test("a safetensors file over 2 GiB is written and read back (streamed, checksummed)", () => {
  const dir = mkdtempSync(join(tmpdir(), "fathom-big-"));
  try {
    const n = 2 ** 29 + 16; // 2 GiB + 64 bytes of F32
    let big: Float32Array | null = new Float32Array(n);
    // A pattern at the ends, around the 1 GiB read chunks and the 2 GiB mark.
    const probes = [0, 1, 2 ** 28 - 1, 2 ** 28, 2 ** 28 + 1, 2 ** 29 - 1, 2 ** 29, n - 1];
    for (const i of probes) big[i] = (i % 65521) + 0.25;
    const small = Int32Array.from([7, -8, 9]);
    const path = join(dir, "big.safetensors");
    writeSafetensorsFile(
      path,
      new Map([
        ["big", { dtype: "F32" as const, shape: [n], data: big }],
        ["small", { dtype: "I32" as const, shape: [3], data: small }],
      ]),
      { note: "large" },
    );
    big = null; // let the writer's copy go before reading another 2 GiB
    assert.ok(statSync(path).size > 2 ** 31, "the file is over 2 GiB");
    const back = readSafetensorsFile(path);
    assert.equal(back.metadata.note, "large");
    const b = back.tensors.get("big")!;
    assert.deepEqual(b.shape, [n]);
    assert.equal(b.data.length, n);
    for (const i of probes) assert.equal(b.data[i], (i % 65521) + 0.25, `value ${i}`);
    assert.equal(b.data[12345], 0);
    assert.deepEqual(Array.from(back.tensors.get("small")!.data), [7, -8, 9]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
