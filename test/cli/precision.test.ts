// --precision fp32|bf16 and FATHOM_PRECISION on `fathom train`: the run's config records what was
// asked for (config.precision) and what ran (the top-level "precision"); bf16 where it cannot run
// (here forced with FATHOM_SIMD=generic, as on a CPU without AVX512_BF16) runs fp32 and says why
// in one line; a config saved before the key existed reads back as fp32.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { getBackend } from "../../src/engine/index.js";
import { parseSavedConfig, TrainConfigSchema } from "../../src/train/config.js";
import { TINY } from "../train/tiny-config.js";
import { cli } from "./run-cli.js";

const root = new URL("../..", import.meta.url).pathname;

/** The CLI as a child process (the kernel level is chosen once per process). */
function child(args: string[], env: Record<string, string>): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "src/cli/bin.ts"), ...args], {
    cwd: root,
    env: { ...process.env, FATHOM_BACKEND: "", FATHOM_PRECISION: "", ...env },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const tiny = (runsDir: string) => [
  "train",
  ...Object.entries({ ...TINY, totalEnvSteps: 200, numEvals: 1, numEvalEnvs: 2, episodeLength: 30, windowLength: 30, maxReplaySize: 100 }).flatMap(([k, v]) => [
    `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
    String(v),
  ]),
  "--runs-dir",
  runsDir,
];

function savedConfig(runs: string): { precision: string; config: { precision: string } } {
  const dirs = readdirSync(runs);
  assert.equal(dirs.length, 1);
  return JSON.parse(readFileSync(join(runs, dirs[0], "config.json"), "utf8"));
}

const nativeLoaded = getBackend("auto").name === "native";

describe("--precision and FATHOM_PRECISION", () => {
  test("the key: default fp32, fp32 or bf16 only, and fp32 for configs saved before it existed", () => {
    const today = TrainConfigSchema.parse({ env: "simple_u_maze-v1" });
    assert.equal(today.precision, "fp32");
    assert.equal(TrainConfigSchema.parse({ env: "simple_u_maze-v1", precision: "bf16" }).precision, "bf16");
    assert.ok(!TrainConfigSchema.safeParse({ env: "simple_u_maze-v1", precision: "fp16" }).success);
    const old: Record<string, unknown> = { ...today };
    delete old.precision;
    const r = parseSavedConfig(old);
    assert.ok(r.success);
    assert.equal(r.data.precision, "fp32");
    const b = parseSavedConfig({ ...today, precision: "bf16" });
    assert.ok(b.success);
    assert.equal(b.data.precision, "bf16");
  });

  test("bf16 on kernels without it (FATHOM_SIMD=generic) runs fp32 with a one-line note; the config records both", { skip: !nativeLoaded && "no native backend" }, () => {
    const runs = mkdtempSync(join(tmpdir(), "fathom-prec-"));
    const r = child([...tiny(runs), "--precision", "bf16"], { FATHOM_SIMD: "generic" });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^backend: native \(generic, \d+ threads?\), precision fp32 \(bf16 requested\)$/m);
    const notes = (r.out + r.err).split("\n").filter((l) => l.includes("precision bf16 was requested"));
    assert.equal(notes.length, 1, r.out + r.err);
    assert.match(notes[0], /precision bf16 was requested but native \(generic, \d+ threads?\) cannot run it \(SIMD level "generic" was forced.*\): running in fp32$/);
    const saved = savedConfig(runs);
    assert.equal(saved.config.precision, "bf16");
    assert.equal(saved.precision, "fp32");
  });

  test("FATHOM_PRECISION applies without --precision; the flag beats it; a bogus value names the allowed ones", async () => {
    const base = mkdtempSync(join(tmpdir(), "fathom-prec-"));
    const env = join(base, "env");
    const r = await cli(tiny(env), { FATHOM_PRECISION: "bf16" });
    assert.equal(r.code, 0, r.err);
    const want = getBackend("auto").bf16Unavailable() === null ? "bf16" : "fp32";
    assert.match(r.out, new RegExp(`^backend: .*, precision ${want}`, "m"));
    assert.equal(savedConfig(env).config.precision, "bf16");
    assert.equal(savedConfig(env).precision, want);
    const flag = join(base, "flag");
    const f = await cli([...tiny(flag), "--precision", "fp32"], { FATHOM_PRECISION: "bf16" });
    assert.equal(f.code, 0, f.err);
    assert.equal(savedConfig(flag).config.precision, "fp32");
    const bogus = await cli(tiny(join(base, "none")), { FATHOM_PRECISION: "fp16" });
    assert.notEqual(bogus.code, 0);
    assert.match(bogus.err, /FATHOM_PRECISION="fp16" is not allowed: use one of fp32, bf16/);
  });
});
