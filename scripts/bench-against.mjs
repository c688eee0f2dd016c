#!/usr/bin/env node
// Times today's build against an older commit's, alternating, on the same machine in the same run:
//
//   node scripts/bench-against.mjs <commit> [--rounds 3] -- <bench args>
//   node scripts/bench-against.mjs ee35f47 --rounds 3 -- crl --depths 64 --batches 256 --reps 15
//
// Issue 12 states its CRL targets on other machines as ratios to the code of its filing
// (ee35f47: "bf16 ≥ 1.7×, fp32 ≥ 1.17× today's code measured in the same run"). `bench -- crl`'s
// own baseline is today's code with the composite parts in TypeScript, which shares every GEMM and
// layer change made since; this script measures against the old build itself.
//
// The commit is cloned from this repository into $TMPDIR/fathom-bench-<commit> and installed
// there once (`npm ci`, which builds its native addon); later calls reuse it. Each round runs
// `npm run -s bench -- <bench args>` in the old tree, then in this one. Every JSON line either
// prints goes to stdout tagged with "build" ("base" or "today") and "round"; at the end one
// "bench-against" line per line of today's build that has a base line of the same bench, depth,
// batch and width (a base line without width counts as 256, the old benches' only width): the
// median ms of each over the rounds and speedup = base / today; where today's line states a
// target_speedup (bench -- crl at issue 12's size), also whether the speedup meets it.
// crl-baseline lines are left out of the pairing. Run it on an idle machine: both builds then see
// the same conditions.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));

function usage(msg) {
  console.error(`bench-against: ${msg}\nusage: node scripts/bench-against.mjs <commit> [--rounds N] -- <bench args>   (e.g. ee35f47 --rounds 3 -- crl --depths 64 --batches 256 --reps 15)`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const dd = argv.indexOf("--");
if (dd < 0 || dd === argv.length - 1) usage("no bench arguments after --");
const own = argv.slice(0, dd);
const benchArgs = argv.slice(dd + 1);
const commitArg = own.find((a, i) => !a.startsWith("--") && own[i - 1] !== "--rounds");
if (!commitArg) usage("no commit given");
const ri = own.indexOf("--rounds");
const rounds = ri >= 0 ? Number(own[ri + 1]) : 3;
if (!Number.isInteger(rounds) || rounds < 1) usage(`--rounds takes a positive integer, got ${own[ri + 1]}`);

function run(cmd, args, cwd, inherit = false) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", inherit ? "inherit" : "pipe", "inherit"], maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) exited with ${r.status}`);
  return r.stdout ?? "";
}

const rev = spawnSync("git", ["rev-parse", "--verify", `${commitArg}^{commit}`], { cwd: root, encoding: "utf8" });
if (rev.status !== 0) usage(`${commitArg} is not a commit of this repository`);
const commit = rev.stdout.trim();
const baseDir = join(tmpdir(), `fathom-bench-${commit.slice(0, 12)}`);
if (!existsSync(join(baseDir, "node_modules"))) {
  console.error(`bench-against: installing ${commit.slice(0, 12)} in ${baseDir} (npm ci, once)`);
  if (!existsSync(baseDir)) run("git", ["clone", "-q", "--no-checkout", root, baseDir], root);
  run("git", ["checkout", "-q", "--detach", commit], baseDir);
  run("npm", ["ci", "--no-audit", "--no-fund"], baseDir, false);
}

const lines = { base: [], today: [] };
for (let round = 1; round <= rounds; round++) {
  for (const [build, cwd] of [
    ["base", baseDir],
    ["today", root],
  ]) {
    const out = run("npm", ["run", "-s", "bench", "--", ...benchArgs], cwd);
    for (const text of out.split("\n")) {
      if (!text.startsWith("{")) continue;
      const line = JSON.parse(text);
      lines[build].push(line);
      console.log(JSON.stringify({ build, round, ...line }));
    }
  }
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const benchName = (l) => (l.bench === "train" ? "train_step" : l.bench);
const key = (l) => JSON.stringify([benchName(l), l.depth, l.batch, l.width ?? 256, l.recompute ?? false]);
const todayKey = (l) => JSON.stringify([key(l), l.precision ?? "fp32", l.kernels ?? ""]);
const groups = new Map();
for (const l of lines.today) {
  if (l.bench === "crl-baseline" || typeof l.ms !== "number") continue;
  const k = todayKey(l);
  if (!groups.has(k)) groups.set(k, { first: l, ms: [] });
  groups.get(k).ms.push(l.ms);
}
for (const { first, ms } of groups.values()) {
  const base = lines.base.filter((b) => typeof b.ms === "number" && key(b) === key(first)).map((b) => b.ms);
  if (base.length === 0) continue;
  const out = {
    bench: "bench-against",
    of: benchName(first),
    base: commit.slice(0, 12),
    precision: first.precision ?? "fp32",
    depth: first.depth,
    width: first.width ?? 256,
    batch: first.batch,
    rounds,
    ms: +median(ms).toFixed(2),
    base_ms: +median(base).toFixed(2),
    speedup: +(median(base) / median(ms)).toFixed(3),
    ms_per_round: ms,
    base_ms_per_round: base,
  };
  if (typeof first.target_speedup === "number") {
    out.target_speedup = first.target_speedup;
    out.meets_target_speedup = out.speedup >= first.target_speedup;
  }
  console.log(JSON.stringify(out));
}
