// Every subcommand reads its command line through the one flag layer (cli/flags.ts): generated
// --help, unknown options and bad values named with what is allowed. fathom sweep builds each run's
// config from the user's values and its own, never replacing one the user gave, and hands a child
// process a command line that reads back as exactly that config.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseSweepArgs, parseTrainArgs, runValueArgs } from "../../src/cli/train-args.js";
import { networkSizes } from "../../src/train/config.js";
import { cli } from "./run-cli.js";

const runsDir = join(mkdtempSync(join(tmpdir(), "fathom-cmd-")), "runs");
const tiny = ["--env", "simple_u_maze-v1", "--num-envs", "2", "--batch-size", "8", "--min-replay-size", "10", "--max-replay-size", "200", "--window-length", "200", "--runs-dir", runsDir];

describe("the command layer", () => {
  test("every subcommand answers --help with its options", async () => {
    for (const cmd of ["train", "sweep", "eval", "plot", "export", "collect", "view", "video", "envs"]) {
      const r = await cli([cmd, "--help"]);
      assert.equal(r.code, 0, `${cmd}: ${r.err}`);
      assert.match(r.out, new RegExp(`^Usage: fathom ${cmd}`), cmd);
      assert.match(r.out, /-h, --help +Show this help\./, cmd);
    }
    const train = (await cli(["train", "--agent", "sac", "--help"])).out;
    assert.match(train, /This is --agent sac/);
    assert.match(train, /--preset <string>/);
    assert.match(train, /--resume <string>/);
    assert.match(train, /--tau <number>/);
    assert.doesNotMatch(train, /--sweep-run-dir/);
    const sweep = (await cli(["sweep", "--help"])).out;
    for (const flag of ["--depths <int,...>", "--seeds <int,...>", "--batch-sizes <int,...>", "--jobs <int>", "--[no-]retry-nonfinite", "--critic-depth <int>", "--energy-fn"]) {
      assert.ok(sweep.includes(flag), flag);
    }
    assert.match(sweep, /\(default: 0,1,2\)/);
    assert.doesNotMatch(sweep, /--seed </);
    const envs = await cli(["envs", "--bogus"]);
    assert.equal(envs.code, 2);
    assert.match(envs.err, /unknown option --bogus/);
  });

  test("train and sweep: bad input is named with what is allowed", async () => {
    const cases: [string[], RegExp][] = [
      [["sweep", ...tiny, "--jobs", "0"], /--jobs 0 is invalid: .*allowed: an integer, >= 1, <= 256/],
      [["sweep", ...tiny, "--seeds", "3-1"], /--seeds "3-1" is invalid \(range 3-1 runs backwards: write 1-3\)/],
      [["sweep", ...tiny, "--depths", "x"], /--depths "x" is invalid; allowed: a comma-separated list of an integer, >= 0 \(ranges a-b too/],
      [["sweep", ...tiny, "--seed", "3"], /--seed: a sweep sets each run's seed; give --seeds/],
      [["sweep", ...tiny, "--resume", "x"], /fathom sweep resumes its runs by itself/],
      [["sweep", ...tiny, "--sweep-run-dir", "x"], /--sweep-run-dir is internal to fathom sweep/],
      [["sweep", ...tiny, "--tau", "0.1"], /--tau does not apply to --agent crl: it is an option of --agent sac, --agent sac_her, --agent td3_her/],
      [["sweep", ...tiny, "--agent", "ppo"], /unknown agent "ppo": allowed are crl/],
      [["sweep", ...tiny, "--preset", "gpu"], /unknown preset "gpu" \(did you mean cpu\?\): allowed are paper, cpu/],
      [["sweep", ...tiny, "--depth", "4"], /unknown option --depth; did you mean --depths/],
      [["train", "--resume", "x", "--preset", "paper"], /--resume continues a run with its saved configuration; only --total-env-steps N and --num-evals M \(to extend the run\) and --threads N may be given with it, not --preset/],
      [["train", "--resume", "x", "--energy-fn", "dot"], /may be given with it, not --energy-fn$/m],
      [["train", ...tiny, "extra"], /unexpected argument "extra".*see fathom train --agent crl --help/],
      [["train", ...tiny, "--alpha-lr", "1"], /--alpha-lr does not apply to --agent crl: it is an option of --agent sac, --agent sac_her/],
    ];
    for (const [argv, want] of cases) {
      const r = await cli(argv);
      assert.equal(r.code, 2, `${argv.join(" ")}: ${r.err}`);
      assert.match(r.err, want, argv.join(" "));
    }
  });

  test("--resume takes --threads (speed only) beside the length options", () => {
    assert.deepEqual(parseTrainArgs(["--resume", "runs/x", "--threads", "2"]), { kind: "resume", target: "runs/x", want: { totalEnvSteps: undefined, numEvals: undefined }, threads: 2 });
    const none = parseTrainArgs(["--resume", "runs/x"]);
    assert.ok(none.kind === "resume" && !("threads" in none));
  });

  test("a refused run's values as the flags that give them to a sweep: booleans as --x/--no-x, none where one is not a flag", () => {
    assert.deepEqual(
      runValueArgs("crl", [
        { key: "allGoalEval", run: false, sweep: true },
        { key: "batchSize", run: 128, sweep: 64 },
        { key: "lr", run: 0.001, sweep: 0.0003 },
      ]),
      ["--no-all-goal-eval", "--batch-size", "128", "--lr", "0.001"],
    );
    assert.deepEqual(runValueArgs("crl", [{ key: "farGoalEval", run: true, sweep: false }]), ["--far-goal-eval"]);
    assert.equal(runValueArgs("crl", [{ key: "threads", run: undefined, sweep: 0 }]), null, "the run has no value to give");
    assert.equal(runValueArgs("crl", [{ key: "notAKey", run: 1, sweep: 2 }]), null);
  });

  test("a sweep's runs: the user's values and the sweep's, each once; the child's command line reads back as the same config", () => {
    const unbatched = tiny.filter((a, i) => a !== "--batch-size" && tiny[i - 1] !== "--batch-size");
    const req = parseSweepArgs([...unbatched, "--depths", "4,8", "--seeds", "1", "--batch-sizes", "8,16", "--lr", "0.001", "--no-far-goal-eval", "--threads", "0"]);
    assert.equal(req.kind, "sweep");
    if (req.kind !== "sweep") return;
    const { plan } = req;
    assert.equal(plan.base.batchSize, 8); // checked with the smallest swept batch
    assert.ok(plan.userThreads);
    const run = plan.run({ depth: 8, seed: 1, batchSize: 16 });
    assert.deepEqual([networkSizes(run.config).actorDepth, networkSizes(run.config).criticDepth], [8, 8]);
    assert.equal(run.config.seed, 1);
    assert.equal(run.config.batchSize, 16);
    assert.equal(run.config.lr, 0.001);
    assert.equal(run.config.farGoalEval, false);
    assert.equal(run.config.threads, 0);
    assert.equal(run.config.numEnvs, 2);
    // every key once: the train command line gives exactly this config
    const names = run.trainArgs.filter((a) => a.startsWith("--")).map((a) => a.replace(/=.*/, ""));
    assert.equal(new Set(names).size, names.length, run.trainArgs.join(" "));
    const back = parseTrainArgs(run.trainArgs);
    assert.equal(back.kind, "new");
    if (back.kind === "new") assert.deepEqual(back.config, run.config);
    // a value the user gave is never replaced by the sweep's: it is refused instead
    assert.throws(() => plan.run({ depth: 4, seed: 1, threads: 1 }), /threads is set by both the command line and the sweep/);
    // a fixed critic depth stays; the actor's is swept
    const fixed = parseSweepArgs([...tiny, "--critic-depth", "16", "--depths", "4"]);
    assert.ok(fixed.kind === "sweep");
    if (fixed.kind === "sweep") {
      const c = networkSizes(fixed.plan.run({ depth: 4, seed: 0 }).config);
      assert.deepEqual([c.actorDepth, c.criticDepth], [4, 16]);
    }
  });
});
