import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import {
  describeAllowed,
  editDistance,
  FlagError,
  formatCommandHelp,
  formatHelp,
  parseCommand,
  parseConfig,
  parseFlags,
  resolveConfig,
  suggest,
  toArgv,
  toKebab,
} from "../../src/cli/flags.js";

const schema = z
  .object({
    env: z.string().describe("Environment id.").default("simple_u_maze-v1"),
    criticDepth: z.number().int().min(4).multipleOf(4).describe("Dense layers in the critic's residual blocks.").default(4),
    actorDepth: z.number().int().min(4).multipleOf(4).default(4),
    learningRate: z.number().positive().max(1).default(3e-4),
    totalEnvSteps: z.number().int().positive().default(1_000_000),
    energy: z.enum(["l2", "norm", "dot", "cosine"]).default("l2").describe("Energy function of the critic."),
    deterministicEval: z.boolean().default(true),
    resetBug: z.boolean().default(false).describe("Reproduce JaxGCRL issue #53."),
    seeds: z.array(z.number().int().nonnegative()).min(1).default([0]),
    maxHours: z.number().positive().nullable().default(null),
    logDir: z.string().optional(),
    seed: z.number().int().nonnegative(),
  })
  .refine((c) => c.actorDepth <= c.criticDepth, { message: "actorDepth must not exceed criticDepth", path: ["actorDepth"] });

function flagError(fn: () => unknown): FlagError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof FlagError, `expected a FlagError, got ${e}`);
    return e;
  }
  assert.fail("expected an error");
}

test("names: camelCase keys map to kebab-case flags; edit distance and suggestions", () => {
  assert.equal(toKebab("totalEnvSteps"), "total-env-steps");
  assert.equal(toKebab("learningRate"), "learning-rate");
  assert.equal(toKebab("seed"), "seed");
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("dpeth", "depth"), 1); // a swap counts once
  assert.equal(editDistance("", "abc"), 3);
  assert.deepEqual(suggest("critc-depth", ["critic-depth", "actor-depth", "env"]), ["critic-depth"]);
  assert.deepEqual(suggest("depth", ["critic-depth", "actor-depth", "env"]), ["actor-depth", "critic-depth"]);
  assert.deepEqual(suggest("zzz", ["critic-depth", "env"]), []);
});

test("flags, --key=value, booleans, arrays, nullables and positionals parse to typed values", () => {
  const r = parseFlags(schema, [
    "run1",
    "--critic-depth",
    "64",
    "--learning-rate=1e-3",
    "--total-env-steps",
    "100_000_000",
    "--energy",
    "cosine",
    "--no-deterministic-eval",
    "--reset-bug",
    "--seeds",
    "0,1,2",
    "--max-hours",
    "null",
    "--env=ant_u4_maze-v1",
    "run2",
    "--seed",
    "8",
    "--",
    "--not-a-flag",
  ]);
  assert.deepEqual(r.values, {
    criticDepth: 64,
    learningRate: 1e-3,
    totalEnvSteps: 100_000_000,
    energy: "cosine",
    deterministicEval: false,
    resetBug: true,
    seeds: [0, 1, 2],
    maxHours: null,
    env: "ant_u4_maze-v1",
    seed: 8,
  });
  assert.deepEqual(r.positionals, ["run1", "run2", "--not-a-flag"]);
  assert.equal(r.help, false);
  assert.deepEqual(r.fromFlags, ["criticDepth", "learningRate", "totalEnvSteps", "energy", "deterministicEval", "resetBug", "seeds", "maxHours", "env", "seed"]);
  assert.deepEqual(parseFlags(schema, ["--reset-bug=false", "--learning-rate", ".5", "-h"]).values, { resetBug: false, learningRate: 0.5 });
  assert.equal(parseFlags(schema, ["-h"]).help, true);
  assert.equal(parseFlags(schema, ["--help"]).help, true);
});

test("numbers are parsed strictly, integers where the schema says int", () => {
  for (const bad of ["12abc", "", "0x10", "1e", "Infinity", "NaN", "1__0", "1 2"]) {
    const e = flagError(() => parseFlags(schema, ["--total-env-steps", bad]));
    assert.match(e.message, /--total-env-steps/);
    assert.ok(e.message.includes(JSON.stringify(bad)), e.message);
    assert.match(e.message, /allowed: an integer, > 0/);
    assert.equal(e.key, "totalEnvSteps");
  }
  const e = flagError(() => parseFlags(schema, ["--critic-depth", "6.5"]));
  assert.match(e.message, /--critic-depth "6.5" is invalid; allowed: an integer, >= 4, a multiple of 4/);
  // a negative number is a value, not an option
  assert.deepEqual(parseFlags(z.object({ x: z.number() }), ["--x", "-1e-3"]).values, { x: -1e-3 });
});

test("invalid values name the key, the value and what is allowed", () => {
  let e = flagError(() => parseFlags(schema, ["--energy", "cosin"]));
  assert.match(e.message, /--energy "cosin" is invalid \(did you mean cosine\?\); allowed: one of: l2, norm, dot, cosine/);
  e = flagError(() => parseFlags(schema, ["--critic-depth", "6"]));
  assert.match(e.message, /--critic-depth 6 is invalid: .*multiple of 4.*; allowed: an integer, >= 4, a multiple of 4/);
  e = flagError(() => parseFlags(schema, ["--learning-rate", "-1"]));
  assert.match(e.message, /--learning-rate -1 is invalid: .*; allowed: a number, > 0, <= 1/);
  e = flagError(() => parseFlags(schema, ["--seeds", "0,-1"]));
  assert.match(e.message, /--seeds \[0,-1\] is invalid: .*allowed: a comma-separated list of an integer, >= 0 \(ranges a-b too, e\.g\. 0-2,7\); at least 1 element/);
  e = flagError(() => parseFlags(schema, ["--reset-bug=maybe"]));
  assert.match(e.message, /--reset-bug "maybe" is invalid; allowed: true or false/);
  e = flagError(() => parseFlags(schema, ["--no-reset-bug=true"]));
  assert.match(e.message, /--no-reset-bug takes no value/);
  e = flagError(() => parseFlags(schema, ["--env"]));
  assert.match(e.message, /--env needs a value: a string/);
  e = flagError(() => parseFlags(schema, ["--critic-depth", "--env", "x"]));
  assert.match(e.message, /--critic-depth needs a value: an integer/);
  e = flagError(() => parseFlags(schema, ["--max-hours", "nil"]));
  assert.match(e.message, /allowed: a number, > 0 or "null"/);
});

test("unknown flags are named, with close matches and a pointer to --help", () => {
  let e = flagError(() => parseFlags(schema, ["--critic-dpeth", "4"], { helpHint: "fathom train --help" }));
  assert.equal(e.message, "unknown option --critic-dpeth; did you mean --critic-depth? (see fathom train --help for all options)");
  e = flagError(() => parseFlags(schema, ["--depth", "4"]));
  assert.match(e.message, /unknown option --depth; did you mean --actor-depth, --critic-depth\?/);
  e = flagError(() => parseFlags(schema, ["--wxyz"]));
  assert.equal(e.message, "unknown option --wxyz (see --help for all options)");
  e = flagError(() => parseFlags(schema, ["-d", "4"]));
  assert.match(e.message, /unknown option -d: options are written --long-name/);
  e = flagError(() => parseFlags(schema, ["--no-env"]));
  assert.match(e.message, /unknown option --no-env/);
  e = flagError(() => parseFlags(schema, ["a", "b"], { maxPositionals: 1 }));
  assert.match(e.message, /unexpected argument "b": at most 1 positional argument allowed/);
});

test("presets + overrides + validation in one call, reporting where each value came from", () => {
  const cpu = { env: "simple_big_maze-v1", criticDepth: 16, totalEnvSteps: 2_000_000, seed: 0 };
  const r = parseConfig(schema, ["--critic-depth", "32", "--energy", "dot", "runs"], { preset: cpu, presetName: "cpu" });
  assert.equal(r.help, false);
  if (r.help) return;
  assert.deepEqual(r.config, {
    env: "simple_big_maze-v1",
    criticDepth: 32,
    actorDepth: 4,
    learningRate: 3e-4,
    totalEnvSteps: 2_000_000,
    energy: "dot",
    deterministicEval: true,
    resetBug: false,
    seeds: [0],
    maxHours: null,
    seed: 0,
  });
  assert.deepEqual(r.fromFlags, ["criticDepth", "energy"]);
  assert.equal(r.sources.env, "preset");
  assert.equal(r.sources.criticDepth, "flag");
  assert.equal(r.sources.learningRate, "default");
  assert.deepEqual(r.positionals, ["runs"]);

  // help short-circuits validation (seed is required and missing here)
  assert.deepEqual(parseConfig(schema, ["--help"]), { help: true, positionals: [] });

  // errors say which source gave the bad value
  let e = flagError(() => parseConfig(schema, ["--actor-depth", "64"], { preset: cpu, presetName: "cpu" }));
  assert.match(e.message, /--actor-depth 64 is invalid: actorDepth must not exceed criticDepth/);
  e = flagError(() => resolveConfig(schema, { ...cpu, criticDepth: 6 }, {}, { presetName: "cpu" }));
  assert.match(e.message, /criticDepth = 6 \(from preset "cpu"\) is invalid: .*allowed: an integer, >= 4, a multiple of 4/);
  e = flagError(() => resolveConfig(schema, {}, {}));
  assert.match(e.message, /seed is required: set --seed <int> \(an integer, >= 0\)/);
  e = flagError(() => resolveConfig(schema, { ...cpu, depht: 4 } as never, {}, { presetName: "cpu" }));
  assert.match(e.message, /preset "cpu" sets unknown key "depht"/);
});

test("formatHelp lists every flag with description, allowed values and defaults", () => {
  const help = formatHelp(schema, { usage: "Usage: fathom train [options]", values: { criticDepth: 16 }, valuesLabel: "cpu" });
  assert.match(help, /^Usage: fathom train \[options\]\n/);
  const flat = help.replace(/\s+/g, " "); // descriptions wrap across lines
  assert.match(flat, /--critic-depth <int> Dense layers in the critic's residual blocks\. Allowed: an integer, >= 4, a multiple of 4\. \(cpu: 16; default: 4\)/);
  assert.match(flat, /--energy <l2\|norm\|dot\|cosine> Energy function of the critic\. \(default: "l2"\)/);
  assert.match(flat, /--\[no-\]reset-bug Reproduce JaxGCRL issue #53\. \(default: false\)/);
  assert.match(flat, /--seeds <int,\.\.\.> Allowed: a comma-separated list of an integer, >= 0 \(ranges a-b too, e\.g\. 0-2,7\); at least 1 element\. \(default: 0\)/);
  assert.match(flat, /--seed <int> Allowed: an integer, >= 0\. \(required\)/);
  assert.match(flat, /--total-env-steps <int> Allowed: an integer, > 0\. \(default: 1_000_000\)/);
  assert.match(formatHelp(z.object({ a: z.number().describe("No period") })), /--a <number> +No period\. \(required\)/);
  assert.match(help, /--log-dir <string>\n/);
  assert.match(help, /-h, --help +Show this help\./);
  for (const key of Object.keys(schema.shape)) assert.match(help, new RegExp(`  --(\\[no-\\])?${toKebab(key)}[ \\n]`), key);
  for (const line of help.split("\n")) assert.ok(line.length <= 100, line);
  assert.equal(describeAllowed(z.enum(["a", "b"]).default("a")), "one of: a, b");
  assert.equal(describeAllowed(z.union([z.literal("auto"), z.number().int()])), "one of: auto or an integer");
});

test("unions and literals convert to the member that accepts the word", () => {
  const s = z.object({
    threads: z.union([z.literal("auto"), z.number().int().min(0)]).default("auto"),
    preset: z.literal(["paper", "cpu"]).default("cpu"),
  });
  assert.deepEqual(parseFlags(s, ["--threads", "3", "--preset", "paper"]).values, { threads: 3, preset: "paper" });
  assert.deepEqual(parseFlags(s, ["--threads", "auto"]).values, { threads: "auto" });
  const e = flagError(() => parseFlags(s, ["--threads", "-1"]));
  assert.match(e.message, /--threads/);
  assert.throws(() => parseFlags(z.object({ aB: z.number(), a_b: z.number() }), []), /both map to --a-b/);
});

test("parseCommand: command options pick a preset, config flags override it, both validated", () => {
  const cmd = z.object({
    preset: z.enum(["paper", "cpu"]).default("cpu").describe("Preset of the config."),
    resume: z.string().optional().describe("Run directory or checkpoint to resume from."),
  });
  const presets = {
    paper: { criticDepth: 64, totalEnvSteps: 100_000_000, seed: 0 },
    cpu: { criticDepth: 8, totalEnvSteps: 1_000_000, seed: 0 },
  };
  const r = parseCommand(cmd, schema, ["--preset", "paper", "--actor-depth", "16", "--resume", "runs/x", "extra"], { presets });
  assert.equal(r.help, false);
  if (r.help) return;
  assert.deepEqual(r.command, { preset: "paper", resume: "runs/x" });
  assert.equal(r.presetName, "paper");
  assert.equal(r.config.criticDepth, 64);
  assert.equal(r.config.actorDepth, 16);
  assert.equal(r.config.totalEnvSteps, 100_000_000);
  assert.deepEqual(r.fromFlags, ["actorDepth"]);
  assert.equal(r.sources.criticDepth, "preset");
  assert.deepEqual(r.positionals, ["extra"]);

  const d = parseCommand(cmd, schema, [], { presets });
  assert.ok(!d.help && d.presetName === "cpu" && d.config.criticDepth === 8);

  let e = flagError(() => parseCommand(cmd, schema, ["--preset", "gpu"], { presets }));
  assert.match(e.message, /--preset "gpu" is invalid \(did you mean cpu\?\); allowed: one of: paper, cpu/);
  e = flagError(() => parseCommand(z.object({ preset: z.string() }), schema, ["--preset", "cpuu"], { presets }));
  assert.match(e.message, /unknown preset "cpuu" \(did you mean cpu\?\): allowed are paper, cpu/);
  e = flagError(() => parseCommand(cmd, schema, ["--actor-depth", "16"], { presets }));
  assert.match(e.message, /--actor-depth 16 is invalid: actorDepth must not exceed criticDepth/);
  e = flagError(() => parseCommand(cmd, schema, ["--presett", "cpu"], { presets }));
  assert.match(e.message, /unknown option --presett; did you mean --preset\?/);
  assert.throws(() => parseCommand(z.object({ seed: z.number() }), schema, []), /key "seed" is in both/);

  const h = parseCommand(cmd, schema, ["--preset", "paper", "--help"], { presets });
  assert.deepEqual(h, { help: true, positionals: [], values: { preset: "paper" }, schema });
  const help = formatCommandHelp(cmd, schema, { usage: "Usage: fathom train [options]", values: presets.paper, valuesLabel: "paper" });
  const flat = help.replace(/\s+/g, " ");
  assert.match(flat, /^Usage: fathom train \[options\] Options: --preset <paper\|cpu> Preset of the config\. \(default: "cpu"\)/);
  assert.match(flat, /--resume <string> Run directory or checkpoint to resume from\. -h, --help Show this help\. Configuration \(any key overrides the preset\):/);
  assert.match(flat, /--critic-depth <int> Dense layers .* \(paper: 64; default: 4\)/);
});

test("a flag given twice is an error, whatever its spelling (issue 10)", () => {
  for (const argv of [
    ["--seed", "7", "--seed", "8"],
    ["--seed=7", "--seed", "7"],
    ["--reset-bug", "--no-reset-bug"],
    ["--reset-bug", "--reset-bug=true"],
  ]) {
    const e = flagError(() => parseFlags(schema, argv));
    assert.match(e.message, /^--(seed|reset-bug) given twice/, argv.join(" "));
    assert.ok(e.key === "seed" || e.key === "resetBug");
  }
});

test("integer lists take ranges a-b; a backwards range says how to write it", () => {
  assert.deepEqual(parseFlags(schema, ["--seeds", "0-2,7,3-4"]).values.seeds, [0, 1, 2, 7, 3, 4]);
  assert.deepEqual(parseFlags(schema, ["--seeds=5"]).values.seeds, [5]);
  let e = flagError(() => parseFlags(schema, ["--seeds", "4-1"]));
  assert.match(e.message, /--seeds "4-1" is invalid \(range 4-1 runs backwards: write 1-4\); allowed: a comma-separated list of an integer, >= 0 \(ranges a-b too/);
  e = flagError(() => parseFlags(schema, ["--seeds", "1,,2"]));
  assert.match(e.message, /--seeds "1,,2" is invalid/);
  e = flagError(() => parseFlags(schema, ["--seeds", "0-1000000"]));
  assert.match(e.message, /range 0-1000000 is longer than 100000/);
  // not integers: a dash is no range
  assert.deepEqual(parseFlags(z.object({ xs: z.array(z.string()) }), ["--xs", "a-b"]).values.xs, ["a-b"]);
});

test("toArgv writes values as flags that read back exactly, each once", () => {
  const values = { criticDepth: 16, learningRate: 1e-7, energy: "dot", deterministicEval: false, resetBug: true, seeds: [0, 3], maxHours: null, env: "-odd", seed: 2 };
  const argv = toArgv(schema, values);
  assert.deepEqual(argv, [
    "--critic-depth",
    "16",
    "--learning-rate",
    "1e-7",
    "--energy",
    "dot",
    "--no-deterministic-eval",
    "--reset-bug",
    "--seeds",
    "0,3",
    "--max-hours",
    "null",
    "--env=-odd",
    "--seed",
    "2",
  ]);
  assert.deepEqual(parseFlags(schema, argv).values, values);
  assert.throws(() => toArgv(schema, { bogus: 1 }), /"bogus" is not a key/);
  // a value the command line cannot carry is an error, never a different value
  assert.throws(() => toArgv(z.object({ xs: z.array(z.string()) }), { xs: ["a,b"] }), /would be read back as/);
});

test("parseCommand with a config chosen by the flags: every variant's flags are known, the chosen one's are checked", () => {
  const cmd = z.object({ preset: z.string().default("small"), resume: z.string().optional() }).strict();
  const a = z.object({ kind: z.literal("a").default("a"), n: z.number().int().min(1).default(1), fast: z.boolean().default(false) }).strict();
  const b = z.object({ kind: z.literal("b").default("b"), n: z.number().int().min(1).default(1), tau: z.number().default(0.5) }).strict();
  const resume = z.object({ n: z.number().int().min(1).optional() }).strict();
  const choice = {
    variants: [a, b, resume],
    choose: (given: Record<string, unknown>) => (given.resume !== undefined ? resume : given.kind === "b" ? b : a),
    foreign: (flag: string, given: Record<string, unknown> | null) =>
      given === null ? (flag === "secret" ? "--secret is internal" : undefined) : given.resume !== undefined ? `not --${flag} with --resume` : `--${flag} is not an option of kind ${given.kind ?? "a"}`,
    helpHint: (given: Record<string, unknown>) => `help of ${given.kind ?? "a"}`,
  };
  const presets = (_c: unknown, s: unknown) => (s === resume ? undefined : { small: { n: 2 } });
  const r = parseCommand(cmd, choice, ["--kind", "b", "--tau", "0.25"], { presets });
  assert.ok(!r.help);
  assert.equal(r.schema, b);
  assert.deepEqual(r.config, { kind: "b", n: 2, tau: 0.25 });
  assert.deepEqual(r.flagValues, { kind: "b", tau: 0.25 });
  assert.deepEqual(r.commandFromFlags, []);
  assert.equal(r.presetName, "small");
  assert.match(flagError(() => parseCommand(cmd, choice, ["--tau", "1"], { presets })).message, /^--tau is not an option of kind a$/);
  assert.match(flagError(() => parseCommand(cmd, choice, ["--resume", "x", "--fast"], { presets })).message, /^not --fast with --resume$/);
  assert.match(flagError(() => parseCommand(cmd, choice, ["--secret"], { presets })).message, /^--secret is internal$/);
  assert.match(flagError(() => parseCommand(cmd, choice, ["--bogus"], { presets })).message, /unknown option --bogus/);
  assert.match(flagError(() => parseCommand(cmd, choice, ["--kind", "b", "--n", "0"], { presets })).message, /^--n 0 is invalid: .*; allowed: an integer, >= 1$/);
  assert.match(flagError(() => parseCommand(cmd, choice, ["--kind", "b", "extra"], { presets, maxPositionals: 0 })).message, /unexpected argument "extra".*\(see help of b\)/);
  const res = parseCommand(cmd, choice, ["--resume", "x", "--n", "3"], { presets });
  assert.ok(!res.help);
  assert.deepEqual([res.config, res.commandFromFlags, res.presetName], [{ n: 3 }, ["resume"], undefined]);
  // implied values join the flags' before validation
  const imp = parseCommand(cmd, choice, [], { presets, implied: (v) => ({ ...v, n: 5 }) });
  assert.ok(!imp.help && imp.config.n === 5 && imp.fromFlags.includes("n"));
  const h = parseCommand(cmd, choice, ["--kind", "b", "--help"], { presets });
  assert.ok(h.help && h.schema === b && h.values.kind === "b");
  assert.doesNotMatch(formatCommandHelp(cmd, b, { hide: ["resume"] }), /--resume/);
});
