// Command-line flags for a zod (v4) object schema: the schema is the single source of truth for
// names, types, ranges, defaults and help text (DESIGN §6: "its descriptions are the CLI help").
//
//   --kebab-case-key value | --kebab-case-key=value   sets schema key kebabCaseKey
//   --flag | --no-flag | --flag=true|false            booleans (a boolean never takes the next word)
//   --list 4,16,64                                    arrays: comma-separated elements
//   --seeds 0-2,7                                     integer arrays also take ranges a-b (a ≤ b, ≥ 0)
//   --key null                                        only where the schema is nullable
//   --                                                everything after it is positional
//   -h | --help                                       sets `help` (no validation happens then)
// A flag given twice is an error ("--batch-size given twice"; --x and --no-x count as the same flag). Numbers are parsed strictly ("12abc" and "" are errors;
// "1e6" and "1_000_000" are fine); integers where the schema says int.
//
// A command (parseCommand) has options of its own (--preset, --out, …) beside a config schema,
// which its options or flags may choose among several (e.g. one per --agent): every subcommand of
// `fathom` reads its command line here, and formatHelp / formatCommandHelp make its --help.
//
// Zod v4 introspection used here: `schema._zod.def` ({ type, innerType, defaultValue, checks,
// entries, values, options, element, in }), each check's `_zod.def` ({ check, value, inclusive,
// minimum, maximum, format }), and `.description` (from the global registry). Why this and not a
// CLI library (commander, yargs, citty, …): none takes a zod schema as the source of names, types,
// ranges, defaults and help, so each flag would be declared twice; what is read of zod's internals
// is the list above, and test/cli/flags.test.ts and test/cli/command-layer.test.ts (every
// subcommand's --help, every agent's training schema) exercise each of them, so a zod upgrade that
// changes one fails there rather than in a user's hands.
import { isDeepStrictEqual } from "node:util";
import { z } from "zod";

/** Any zod schema; introspected through its `_zod.def`. */
type Schema = z.ZodType;
/** The object schemas this module parses flags for. */
export type ObjectSchema = z.ZodObject;

// Zod v4 definitions, as far as this file reads them.
interface Def {
  type: string;
  innerType?: Schema;
  defaultValue?: unknown;
  checks?: { _zod: { def: CheckDef } }[];
  entries?: Record<string, string | number>;
  values?: unknown[];
  options?: Schema[];
  element?: Schema;
  in?: Schema;
  format?: string;
}
interface CheckDef {
  check: string;
  value?: number | bigint;
  inclusive?: boolean;
  minimum?: number;
  maximum?: number;
  length?: number;
  format?: string;
  pattern?: RegExp;
}

function def(s: Schema): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** An error in command-line input (or a preset); `key` is the schema key when one is to blame. */
export class FlagError extends Error {
  constructor(
    message: string,
    readonly key?: string,
  ) {
    super(message);
    this.name = "FlagError";
  }
}

// ---------------------------------------------------------------------------------------------
// Names

/** `totalEnvSteps` → `total-env-steps`. */
export function toKebab(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1-$2")
    .replace(/_/g, "-")
    .toLowerCase();
}

/** Optimal-string-alignment edit distance (insert, delete, substitute, swap neighbours). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    d.push([i]);
    for (let j = 1; j <= b.length; j++) d[i].push(i === 0 ? j : 0);
  }
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
    }
  }
  return d[a.length][b.length];
}

/** Up to `max` candidates close to `name`: small edit distance, or one contains the other. */
export function suggest(name: string, candidates: readonly string[], max = 3): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3));
  return candidates
    .map((c) => ({ c, d: editDistance(name, c) }))
    .filter(({ c, d }) => d <= limit || (name.length >= 3 && (c.includes(name) || name.includes(c))))
    .sort((x, y) => x.d - y.d || (x.c < y.c ? -1 : 1))
    .slice(0, max)
    .map(({ c }) => c);
}

// ---------------------------------------------------------------------------------------------
// Introspection

const WRAPPERS = new Set(["default", "optional", "nullable", "readonly", "catch", "prefault", "nonoptional"]);

interface FieldInfo {
  /** The schema with wrappers removed (a pipe is followed into its input side). */
  base: Schema;
  description?: string;
  hasDefault: boolean;
  defaultValue?: unknown;
  nullable: boolean;
  optional: boolean;
}

/** Unwraps default/optional/nullable/readonly/catch/prefault/pipe, collecting what they say. */
export function fieldInfo(schema: Schema): FieldInfo {
  const info: FieldInfo = { base: schema, hasDefault: false, nullable: false, optional: false };
  let s = schema;
  for (let guard = 0; guard < 32; guard++) {
    if (info.description === undefined && s.description !== undefined) info.description = s.description;
    const d = def(s);
    if (d.type === "default" || d.type === "prefault") {
      if (!info.hasDefault) {
        info.hasDefault = true;
        info.defaultValue = d.defaultValue;
      }
    }
    if (d.type === "nullable") info.nullable = true;
    if (d.type === "optional") info.optional = true;
    if (WRAPPERS.has(d.type) && d.innerType) s = d.innerType;
    else if (d.type === "pipe" && d.in) s = d.in;
    else break;
  }
  info.base = s;
  return info;
}

function isIntSchema(s: Schema): boolean {
  const d = def(s);
  if (d.format !== undefined && /int/.test(d.format)) return true;
  return (d.checks ?? []).some((c) => c._zod.def.check === "number_format" && /int/.test(c._zod.def.format ?? ""));
}

function fmtNum(v: number | bigint): string {
  return typeof v === "bigint" ? `${v}` : String(v);
}

/** The constraints of a number/string/array schema in words, e.g. "integer >= 4, multiple of 4". */
function constraints(s: Schema): string[] {
  const d = def(s);
  const out: string[] = [];
  if (d.format === "int32" || d.format === "uint32") out.push(d.format === "int32" ? ">= -2147483648, <= 2147483647" : ">= 0, <= 4294967295");
  for (const c of d.checks ?? []) {
    const cd = c._zod.def;
    switch (cd.check) {
      case "greater_than":
        out.push(`${cd.inclusive ? ">=" : ">"} ${fmtNum(cd.value!)}`);
        break;
      case "less_than":
        out.push(`${cd.inclusive ? "<=" : "<"} ${fmtNum(cd.value!)}`);
        break;
      case "multiple_of":
        out.push(`a multiple of ${fmtNum(cd.value!)}`);
        break;
      case "min_length":
        out.push(`at least ${cd.minimum} ${d.type === "array" ? "element" : "character"}${cd.minimum === 1 ? "" : "s"}`);
        break;
      case "max_length":
        out.push(`at most ${cd.maximum} ${d.type === "array" ? "element" : "character"}${cd.maximum === 1 ? "" : "s"}`);
        break;
      case "length_equals":
        out.push(`exactly ${cd.length} ${d.type === "array" ? "elements" : "characters"}`);
        break;
      case "string_format":
        out.push(cd.format === "regex" && cd.pattern ? `matching ${cd.pattern}` : `a valid ${cd.format}`);
        break;
      default:
        // custom refinements and number formats cannot be described; zod's own message is shown
        break;
    }
  }
  return out;
}

function choiceValues(s: Schema): unknown[] | null {
  const d = def(s);
  if (d.type === "enum") return Object.values(d.entries ?? {});
  if (d.type === "literal") return d.values ?? [];
  if (d.type === "union") {
    const all: unknown[] = [];
    for (const o of d.options ?? []) {
      const v = choiceValues(fieldInfo(o).base);
      if (v === null) return null;
      all.push(...v);
    }
    return all;
  }
  return null;
}

/** What a field accepts, in words: "one of: l2, norm", "an integer >= 4, a multiple of 4", … */
export function describeAllowed(schema: Schema): string {
  const info = fieldInfo(schema);
  const s = info.base;
  const d = def(s);
  let text: string;
  const choices = choiceValues(s);
  if (choices !== null) text = `one of: ${choices.map((c) => String(c)).join(", ")}`;
  else if (d.type === "number") text = [isIntSchema(s) ? "an integer" : "a number", ...constraints(s)].join(", ");
  else if (d.type === "boolean") text = "true or false (--flag / --no-flag)";
  else if (d.type === "string") text = ["a string", ...constraints(s)].join(", ");
  else if (d.type === "array") {
    const ranges = isIntElement(d.element!) ? " (ranges a-b too, e.g. 0-2,7)" : "";
    text = [`a comma-separated list of ${describeAllowed(d.element!)}${ranges}`, ...constraints(s)].join("; ");
  }
  else if (d.type === "union") text = (d.options ?? []).map((o) => describeAllowed(o)).join(" or ");
  else if (d.type === "bigint") text = "an integer";
  else text = `a JSON ${d.type}`;
  if (info.nullable) text += ' or "null"';
  return text;
}

/** The short placeholder shown after a flag in help: <int>, <l2|norm|dot>, <string>, … */
function placeholder(schema: Schema): string {
  const s = fieldInfo(schema).base;
  const d = def(s);
  const choices = choiceValues(s);
  if (choices !== null) {
    const joined = choices.map((c) => String(c)).join("|");
    return joined.length <= 40 ? joined : "choice";
  }
  if (d.type === "number") return isIntSchema(s) ? "int" : "number";
  if (d.type === "array") return `${placeholder(d.element!)},...`;
  if (d.type === "union") return (d.options ?? []).map(placeholder).join("|");
  if (d.type === "bigint") return "int";
  if (d.type === "string") return "string";
  return d.type;
}

// ---------------------------------------------------------------------------------------------
// Values

// Decimal with optional '_' digit separators, fraction and exponent; "Infinity" is not a number here.
const NUMBER = /^[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+)?$/;

/** A failed conversion may say why (shown in the error before what is allowed). */
type Converted = { ok: true; value: unknown } | { ok: false; why?: string };

/** The longest range a-b an integer list may hold. */
const MAX_RANGE = 100_000;

function isIntElement(s: Schema): boolean {
  const b = fieldInfo(s).base;
  return def(b).type === "number" && isIntSchema(b);
}

/** Converts one command-line word to the input type of `schema` (no range checks). */
function convert(schema: Schema, raw: string): Converted {
  const info = fieldInfo(schema);
  if (info.nullable && raw === "null") return { ok: true, value: null };
  const s = info.base;
  const d = def(s);
  switch (d.type) {
    case "number": {
      if (!NUMBER.test(raw)) return { ok: false };
      const v = Number(raw.replace(/_/g, ""));
      if (!Number.isFinite(v) || (isIntSchema(s) && !Number.isInteger(v))) return { ok: false };
      return { ok: true, value: v };
    }
    case "bigint":
      return /^[+-]?\d+$/.test(raw) ? { ok: true, value: BigInt(raw) } : { ok: false };
    case "string":
      return { ok: true, value: raw };
    case "boolean":
      if (raw === "true" || raw === "1") return { ok: true, value: true };
      if (raw === "false" || raw === "0") return { ok: true, value: false };
      return { ok: false };
    case "enum":
    case "literal": {
      const found = (choiceValues(s) ?? []).find((c) => String(c) === raw);
      return found === undefined ? { ok: false } : { ok: true, value: found };
    }
    case "union":
      for (const o of d.options ?? []) {
        const c = convert(o, raw);
        if (c.ok && o.safeParse(c.value).success) return c;
      }
      return { ok: false };
    case "array": {
      const parts = raw.length === 0 ? [] : raw.split(",").map((p) => p.trim());
      const out: unknown[] = [];
      for (const p of parts) {
        const range = isIntElement(d.element!) ? /^(\d+)-(\d+)$/.exec(p) : null;
        if (range) {
          const a = Number(range[1]);
          const b = Number(range[2]);
          if (b < a) return { ok: false, why: `range ${p} runs backwards: write ${b}-${a}` };
          if (b - a > MAX_RANGE) return { ok: false, why: `range ${p} is longer than ${MAX_RANGE}` };
          for (let v = a; v <= b; v++) out.push(v);
          continue;
        }
        const c = convert(d.element!, p);
        if (!c.ok) return { ok: false };
        out.push(c.value);
      }
      return { ok: true, value: out };
    }
    default:
      try {
        return { ok: true, value: JSON.parse(raw) };
      } catch {
        return { ok: false };
      }
  }
}

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return `${v}`;
  if (v === undefined) return "undefined";
  return JSON.stringify(v) ?? String(v);
}

function firstIssueMessage(err: z.ZodError): string {
  return err.issues.map((i) => i.message).join("; ");
}

// ---------------------------------------------------------------------------------------------
// Parsing

export interface ParseFlagsOptions {
  /** How to ask for help, quoted in errors (default "--help"). */
  helpHint?: string;
  /** Maximum number of positional arguments (default: unlimited). */
  maxPositionals?: number;
}

export interface ParsedFlags<S extends ObjectSchema> {
  /** Values set by flags, keyed by schema key, converted to the schema's input types. */
  values: Partial<z.input<S>>;
  /** Schema keys set by flags, in the order first given. */
  fromFlags: string[];
  positionals: string[];
  /** -h or --help was given. */
  help: boolean;
}

function shapeOf(schema: ObjectSchema): Record<string, Schema> {
  const d = def(schema);
  if (d.type !== "object") {
    throw new Error(`flags: expected a zod object schema (z.object(...), refinements allowed, no transform), got a zod ${d.type}`);
  }
  return schema.shape as Record<string, Schema>;
}

/** Parses argv (without the node/script/command words) against an object schema. */
export function parseFlags<S extends ObjectSchema>(schema: S, argv: readonly string[], options: ParseFlagsOptions = {}): ParsedFlags<S> {
  const r = parseShape(shapeOf(schema), argv, options);
  return { ...r, values: r.values as Partial<z.input<S>> };
}

/**
 * Reads argv against the flags of `shape`. `unknownFlag` may give the error for a flag the shape
 * lacks (its name without the dashes, as written), instead of "unknown option".
 */
function parseShape(
  shape: Record<string, Schema>,
  argv: readonly string[],
  options: ParseFlagsOptions,
  unknownFlag?: (name: string) => string | undefined,
): { values: Record<string, unknown>; fromFlags: string[]; positionals: string[]; help: boolean } {
  const helpHint = options.helpHint ?? "--help";
  const byFlag = new Map<string, string>();
  for (const key of Object.keys(shape)) {
    const flag = toKebab(key);
    const other = byFlag.get(flag);
    if (other !== undefined) throw new Error(`flags: schema keys "${other}" and "${key}" both map to --${flag}; rename one`);
    byFlag.set(flag, key);
  }
  const values: Record<string, unknown> = {};
  const fromFlags: string[] = [];
  const positionals: string[] = [];
  let help = false;

  const set = (key: string, value: unknown) => {
    const check = shape[key].safeParse(value);
    if (!check.success) {
      throw new FlagError(
        `--${toKebab(key)} ${show(value)} is invalid: ${firstIssueMessage(check.error)}; allowed: ${describeAllowed(shape[key])}`,
        key,
      );
    }
    values[key] = value;
    fromFlags.push(key);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h" || arg === "--help") {
      help = true;
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith("--")) {
      throw new FlagError(`unknown option ${arg}: options are written --long-name (only -h is short); see ${helpHint}`);
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    let key = byFlag.get(name);
    let negated = false;
    if (key === undefined && name.startsWith("no-")) {
      const k = byFlag.get(name.slice(3));
      if (k !== undefined && def(fieldInfo(shape[k]).base).type === "boolean") {
        key = k;
        negated = true;
      }
    }
    if (key === undefined) {
      const why = unknownFlag?.(name);
      if (why !== undefined) throw new FlagError(why);
      const close = suggest(name, [...byFlag.keys()]);
      const hint = close.length > 0 ? `; did you mean ${close.map((c) => `--${c}`).join(", ")}?` : "";
      throw new FlagError(`unknown option --${name}${hint} (see ${helpHint} for all options)`);
    }
    if (fromFlags.includes(key)) {
      throw new FlagError(`--${toKebab(key)} given twice: give each option once (see ${helpHint})`, key);
    }
    const field = shape[key];
    const isBool = def(fieldInfo(field).base).type === "boolean";
    if (isBool) {
      if (negated && inline !== undefined) {
        throw new FlagError(`--no-${toKebab(key)} takes no value (got "${inline}"); write --${toKebab(key)}=${inline} instead`, key);
      }
      if (inline === undefined) {
        set(key, !negated);
        continue;
      }
    }
    let raw: string;
    if (inline !== undefined) raw = inline;
    else {
      const next = argv[i + 1];
      // The next word is this flag's value unless it is missing or is an option itself; a word
      // with one leading dash is a value only where it converts (e.g. "--lr -1" for a number).
      const missing =
        next === undefined ||
        next.startsWith("--") ||
        next === "-h" ||
        (next.startsWith("-") && next.length > 1 && !convert(field, next).ok);
      if (missing) {
        throw new FlagError(`--${toKebab(key)} needs a value: ${describeAllowed(field)} (write --${toKebab(key)} <value> or --${toKebab(key)}=<value>)`, key);
      }
      raw = next;
      i++;
    }
    const c = convert(field, raw);
    if (!c.ok) {
      const choices = choiceValues(fieldInfo(field).base);
      const close = choices === null ? [] : suggest(raw, choices.map(String));
      const hint = close.length > 0 ? ` (did you mean ${close.join(", ")}?)` : c.why !== undefined ? ` (${c.why})` : "";
      throw new FlagError(`--${toKebab(key)} ${JSON.stringify(raw)} is invalid${hint}; allowed: ${describeAllowed(field)}`, key);
    }
    set(key, c.value);
  }
  if (options.maxPositionals !== undefined && positionals.length > options.maxPositionals) {
    const extra = positionals.slice(options.maxPositionals);
    throw new FlagError(
      `unexpected argument${extra.length > 1 ? "s" : ""} ${extra.map((p) => JSON.stringify(p)).join(" ")}: ` +
        `at most ${options.maxPositionals} positional argument${options.maxPositionals === 1 ? "" : "s"} allowed; options start with -- (see ${helpHint})`,
    );
  }
  return { values, fromFlags, positionals, help };
}

// ---------------------------------------------------------------------------------------------
// Presets + overrides + validation

export type ValueSource = "flag" | "preset" | "default";

export interface ResolvedConfig<S extends ObjectSchema> {
  config: z.output<S>;
  /** Where each schema key's value came from. */
  sources: Record<string, ValueSource>;
  /** Keys set by flags (a subset of the schema keys). */
  fromFlags: string[];
}

export interface ResolveOptions {
  /** The preset's name, quoted in errors (e.g. "cpu"). */
  presetName?: string;
  helpHint?: string;
  /**
   * Further rules across keys, run on the validated config (e.g. rules a saved config need not
   * meet, so they are not in the schema); each issue is reported like a schema refinement's.
   */
  check?: (config: never) => { key: string; message: string }[];
}

/**
 * Merges `overrides` (from flags) over `preset` and validates the result with `schema`, which
 * also fills defaults. Errors name each bad key, its value, where the value came from and what is
 * allowed; object-level refinements (e.g. "actor depth ≤ critic depth") are reported too.
 */
export function resolveConfig<S extends ObjectSchema>(
  schema: S,
  preset: Partial<z.input<S>> | undefined,
  overrides: Partial<z.input<S>>,
  options: ResolveOptions = {},
): ResolvedConfig<S> {
  const shape = shapeOf(schema);
  const keys = Object.keys(shape);
  const presetLabel = options.presetName === undefined ? "the preset" : `preset "${options.presetName}"`;
  const p = (preset ?? {}) as Record<string, unknown>;
  const o = overrides as Record<string, unknown>;
  for (const [label, obj] of [
    [presetLabel, p],
    ["the overrides", o],
  ] as const) {
    for (const k of Object.keys(obj)) {
      if (!(k in shape)) {
        const close = suggest(k, keys);
        throw new FlagError(`${label} sets unknown key "${k}"${close.length > 0 ? `; did you mean ${close.join(", ")}?` : ""}; known keys: ${keys.join(", ")}`);
      }
    }
  }
  const merged: Record<string, unknown> = { ...p };
  for (const [k, v] of Object.entries(o)) if (v !== undefined) merged[k] = v;
  const sources: Record<string, ValueSource> = {};
  for (const k of keys) sources[k] = k in o && o[k] !== undefined ? "flag" : k in p && p[k] !== undefined ? "preset" : "default";

  const where = (key: string) =>
    sources[key] === "flag"
      ? `--${toKebab(key)} ${show(merged[key])}`
      : sources[key] === "preset"
        ? `${key} = ${show(merged[key])} (from ${presetLabel})`
        : `${key} = ${show(merged[key])}`;
  const r = schema.safeParse(merged);
  if (r.success && options.check) {
    const extra = options.check(r.data as never);
    if (extra.length > 0) {
      const lines = extra.map((i) => `  ${i.key in shape ? `${where(i.key)} is invalid: ` : ""}${i.message}`);
      throw new FlagError(`invalid configuration:\n${lines.join("\n")}\n(see ${options.helpHint ?? "--help"})`, extra[0].key);
    }
  }
  if (!r.success) {
    const lines = r.error.issues.map((issue) => {
      const key = typeof issue.path[0] === "string" ? issue.path[0] : undefined;
      if (key === undefined || !(key in shape)) return `  ${issue.message}`;
      const src = sources[key];
      const where = src === "flag" ? `--${toKebab(key)} ${show(merged[key])}` : src === "preset" ? `${key} = ${show(merged[key])} (from ${presetLabel})` : `${key}`;
      if (src === "default" && merged[key] === undefined && issue.path.length === 1) {
        return `  ${key} is required: set --${toKebab(key)} <${placeholder(shape[key])}> (${describeAllowed(shape[key])})`;
      }
      const sub = issue.path.length > 1 ? ` at ${issue.path.slice(1).join(".")}` : "";
      // a refinement across keys says itself what would be allowed; the key's own range would mislead
      if (issue.code === "custom" && issue.path.length === 1) return `  ${where} is invalid: ${issue.message}`;
      return `  ${where} is invalid${sub}: ${issue.message}; allowed: ${describeAllowed(shape[key])}`;
    });
    const firstKey = r.error.issues.map((i) => i.path[0]).find((k): k is string => typeof k === "string");
    throw new FlagError(`invalid configuration:\n${lines.join("\n")}\n(see ${options.helpHint ?? "--help"})`, firstKey);
  }
  return { config: r.data, sources, fromFlags: keys.filter((k) => sources[k] === "flag") };
}

export type ParsedConfig<S extends ObjectSchema> =
  | { help: true; positionals: string[] }
  | ({ help: false; positionals: string[] } & ResolvedConfig<S>);

/**
 * Flags → overrides → merged over the preset → validated config, in one call. With -h/--help it
 * returns `{ help: true }` without validating (print `formatHelp(schema)` then).
 */
export function parseConfig<S extends ObjectSchema>(
  schema: S,
  argv: readonly string[],
  options: ResolveOptions & ParseFlagsOptions & { preset?: Partial<z.input<S>> } = {},
): ParsedConfig<S> {
  const parsed = parseFlags(schema, argv, options);
  if (parsed.help) return { help: true, positionals: parsed.positionals };
  const resolved = resolveConfig(schema, options.preset, parsed.values, options);
  return { help: false, positionals: parsed.positionals, ...resolved };
}

/**
 * A config schema chosen by the command line among several (e.g. one per --agent). The command
 * line is first read with the flags of every variant, then again with those of the chosen one.
 */
export interface ConfigChoice<S extends ObjectSchema> {
  /** Every schema `choose` may return. */
  variants: readonly S[];
  /**
   * The config schema for what the flags say: the command's options (converted and checked) and
   * the variants' flags as written (strings; true or false for booleans). May throw a FlagError.
   */
  choose: (given: Record<string, unknown>) => S;
  /**
   * The error for a flag that the chosen schema lacks (e.g. another variant's; `given` is null
   * for a flag in no variant, found on the first reading); undefined: "unknown option".
   */
  foreign?: (flag: string, given: Record<string, unknown> | null) => string | undefined;
  /** How to ask for the chosen schema's help, quoted in errors (default: options.helpHint). */
  helpHint?: (given: Record<string, unknown>) => string;
}

export interface CommandOptions<C extends ObjectSchema, S extends ObjectSchema> extends ParseFlagsOptions, Omit<ResolveOptions, "presetName" | "check"> {
  /**
   * Named presets of the config (or a function of the command options and the chosen schema
   * giving them; undefined: no preset applies); the command option `presetKey` picks one.
   */
  presets?: Record<string, Partial<z.input<S>>> | ((command: z.output<C>, schema: S) => Record<string, Partial<z.input<S>>> | undefined);
  /** The command-schema key naming the preset (default "preset"). */
  presetKey?: string;
  /** Config values the flags imply (e.g. a dataset names its env), added to theirs before validation. */
  implied?: (values: Partial<z.input<S>>, command: z.output<C>) => Partial<z.input<S>>;
  /** As ResolveOptions.check, given the chosen schema too. */
  check?: (config: never, schema: S) => { key: string; message: string }[];
}

export type ParsedCommand<C extends ObjectSchema, S extends ObjectSchema> =
  | {
      help: true;
      positionals: string[];
      /** What the flags set (unvalidated: config flags as written), e.g. to show the chosen preset in the help. */
      values: Record<string, unknown>;
      /** The config schema these flags choose. */
      schema: S;
    }
  | ({
      help: false;
      positionals: string[];
      command: z.output<C>;
      /** Command-schema keys set by flags. */
      commandFromFlags: string[];
      schema: S;
      /** The config values set by flags (and implied by them), before the preset and defaults. */
      flagValues: Partial<z.input<S>>;
      /** The preset applied, if any. */
      presetName?: string;
    } & ResolvedConfig<S>);

/** A schema that reads each flag of `schemas` as written: a string, or a boolean where the flag is one. */
function looseShape(schemas: readonly ObjectSchema[]): Record<string, Schema> {
  const shape: Record<string, Schema> = {};
  const isBool: Record<string, boolean> = {};
  for (const schema of schemas) {
    for (const [k, field] of Object.entries(shapeOf(schema))) {
      const b = def(fieldInfo(field).base).type === "boolean";
      if (k in isBool && isBool[k] !== b) throw new Error(`flags: key "${k}" is a boolean in one variant and not in another; rename one`);
      isBool[k] = b;
      shape[k] = b ? LOOSE_BOOLEAN : LOOSE_STRING;
    }
  }
  return shape;
}

const LOOSE_BOOLEAN = z.boolean();
const LOOSE_STRING = z.string();

/**
 * One command line, two schemas: the command's own options (e.g. --preset, --resume, --out) and
 * the config (one schema, or one chosen among several: ConfigChoice). Flags of both are parsed
 * together (a key in both is an error in the schemas); the command options are validated; the
 * preset they name is taken from `presets`; config flags override it; the merged config is
 * validated. With -h/--help nothing is validated but the choice of the config schema.
 */
export function parseCommand<C extends ObjectSchema, S extends ObjectSchema>(
  commandSchema: C,
  config: S | ConfigChoice<S>,
  argv: readonly string[],
  options: CommandOptions<C, S> = {},
): ParsedCommand<C, S> {
  const cmdShape = shapeOf(commandSchema);
  const choice = "choose" in config ? config : null;
  let schema: S;
  let foreign: ((name: string) => string | undefined) | undefined;
  if (choice === null) schema = config as S;
  else {
    // first reading: the command options, and every variant's flags as written
    const first = parseShape({ ...looseShape(choice.variants), ...cmdShape }, argv, { ...options, maxPositionals: undefined }, (name) => choice.foreign?.(name, null));
    schema = choice.choose(first.values);
    if (first.help) return { help: true, positionals: first.positionals, values: first.values, schema };
    foreign = (name) => choice.foreign?.(name, first.values);
    if (choice.helpHint) options = { ...options, helpHint: choice.helpHint(first.values) };
  }
  const cfgShape = shapeOf(schema);
  for (const k of Object.keys(cmdShape)) {
    if (k in cfgShape) throw new Error(`flags: key "${k}" is in both the command schema and the config schema; rename one`);
  }
  const parsed = parseShape({ ...cmdShape, ...cfgShape }, argv, options, foreign);
  if (parsed.help) return { help: true, positionals: parsed.positionals, values: parsed.values, schema };
  const cmdValues: Record<string, unknown> = {};
  let cfgValues: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed.values)) (k in cmdShape ? cmdValues : cfgValues)[k] = v;
  const command = resolveConfig(commandSchema, undefined, cmdValues as Partial<z.input<C>>, { helpHint: options.helpHint }).config;
  if (options.implied) cfgValues = options.implied(cfgValues as Partial<z.input<S>>, command);
  const presetKey = options.presetKey ?? "preset";
  const presetName = (command as Record<string, unknown>)[presetKey];
  const presets = typeof options.presets === "function" ? options.presets(command, schema) : options.presets;
  let preset: Partial<z.input<S>> | undefined;
  const usePreset = presets !== undefined && presetName !== undefined && presetName !== null;
  if (usePreset) {
    const name = String(presetName);
    if (!Object.hasOwn(presets, name)) {
      const names = Object.keys(presets);
      const close = suggest(name, names);
      throw new FlagError(
        `unknown preset "${name}"${close.length > 0 ? ` (did you mean ${close.join(", ")}?)` : ""}: allowed are ${names.join(", ") || "none"}`,
        presetKey,
      );
    }
    preset = presets[name];
  }
  const { check } = options;
  const resolved = resolveConfig(schema, preset, cfgValues as Partial<z.input<S>>, {
    ...options,
    presetName: usePreset ? String(presetName) : undefined,
    check: check && ((c: never) => check(c, schema)),
  });
  return {
    help: false,
    positionals: parsed.positionals,
    command,
    commandFromFlags: parsed.fromFlags.filter((k) => k in cmdShape),
    schema,
    flagValues: cfgValues as Partial<z.input<S>>,
    ...(usePreset ? { presetName: String(presetName) } : {}),
    ...resolved,
  };
}

/**
 * The command line that sets `values` (schema keys) as flags, each once: parsing it gives `values`
 * back exactly, which is checked (an Error, never a silently different value).
 */
export function toArgv(schema: ObjectSchema, values: Record<string, unknown>): string[] {
  const shape = shapeOf(schema);
  const out: string[] = [];
  const given: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(values)) {
    if (v === undefined) continue;
    if (!(key in shape)) throw new Error(`toArgv: "${key}" is not a key of the schema`);
    given[key] = v;
    const flag = `--${toKebab(key)}`;
    if (typeof v === "boolean" && def(fieldInfo(shape[key]).base).type === "boolean") {
      out.push(v ? flag : `--no-${toKebab(key)}`);
      continue;
    }
    const raw = Array.isArray(v) ? v.map(String).join(",") : typeof v === "number" && Object.is(v, -0) ? "-0" : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
    // a value that starts with a dash is written --flag=value, so it cannot be read as a flag
    if (raw.startsWith("-") || raw.length === 0) out.push(`${flag}=${raw}`);
    else out.push(flag, raw);
  }
  const back = parseFlags(schema, out).values;
  if (!isDeepStrictEqual(back, given)) throw new Error(`toArgv: ${JSON.stringify(given)} would be read back as ${JSON.stringify(back)} from ${out.join(" ")}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Help

export interface HelpOptions {
  /** First line, e.g. "Usage: fathom train [options]". */
  usage?: string;
  /** A paragraph under the usage line. */
  description?: string;
  /** Current values to show (e.g. a preset), labelled `valuesLabel` (default "preset"). */
  values?: Record<string, unknown>;
  valuesLabel?: string;
  /** Line width for wrapping (default 100). */
  width?: number;
  /** Keys not listed (options internal to the program, e.g. one a command passes its child). */
  hide?: readonly string[];
}

// Integers in help are shown with '_' separators, which the parser accepts back: 100_000_000.
function showHelpValue(v: unknown): string {
  if (typeof v === "number" && Number.isSafeInteger(v) && Math.abs(v) >= 100_000) {
    return String(v).replace(/\B(?=(\d{3})+$)/g, "_");
  }
  // a list as it is written on the command line
  if (Array.isArray(v) && v.every((x) => typeof x === "number")) return v.length === 0 ? "none" : v.join(",");
  return show(v);
}

function wrap(text: string, width: number): string[] {
  // keep "≥ 4"-like pairs and "default: 3" on one line: an operator or a "label:" sticks to what follows
  const words: string[] = [];
  for (const w of text.split(/\s+/).filter((x) => x.length > 0)) {
    const prev = words.at(-1);
    if (prev !== undefined && /^(>=|<=|>|<|\(?[a-z]+:)$/.test(prev)) words[words.length - 1] = `${prev} ${w}`;
    else words.push(w);
  }
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line.length > 0 ? `${line} ${word}` : word;
  }
  if (line.length > 0) lines.push(line);
  return lines.length > 0 ? lines : [""];
}

function helpRows(shape: Record<string, Schema>, values: Record<string, unknown> | undefined, valuesLabel: string, hide: readonly string[] = []): [string, string][] {
  const rows: [string, string][] = [];
  for (const [key, field] of Object.entries(shape)) {
    if (hide.includes(key)) continue;
    const info = fieldInfo(field);
    const bd = def(info.base);
    const flag = bd.type === "boolean" ? `--[no-]${toKebab(key)}` : `--${toKebab(key)} <${placeholder(field)}>`;
    const parts: string[] = [];
    if (info.description) {
      const d = info.description.trim();
      parts.push(/[.!?]$/.test(d) ? d : `${d}.`);
    }
    // the placeholder already lists choices; other constraints are spelled out
    const isChoice = choiceValues(info.base) !== null && placeholder(field) !== "choice";
    if (bd.type !== "boolean" && bd.type !== "string" && !isChoice) {
      const allowed = describeAllowed(field);
      if (allowed !== "a number" && allowed !== "an integer") parts.push(`Allowed: ${allowed}.`);
    } else if (bd.type === "string" && constraints(info.base).length > 0) parts.push(`Allowed: ${describeAllowed(field)}.`);
    const notes: string[] = [];
    if (values !== undefined && key in values && values[key] !== undefined) {
      notes.push(`${valuesLabel}: ${showHelpValue(values[key])}`);
    }
    if (info.hasDefault) notes.push(`default: ${showHelpValue(info.defaultValue)}`);
    else if (!info.optional && notes.length === 0) notes.push("required");
    if (notes.length > 0) parts.push(`(${notes.join("; ")})`);
    rows.push([flag, parts.join(" ")]);
  }
  return rows;
}

function renderHelp(sections: { title: string; rows: [string, string][] }[], options: HelpOptions): string {
  const width = options.width ?? 100;
  const all = sections.flatMap((x) => x.rows);
  const col = Math.min(34, Math.max(...all.map(([f]) => f.length)) + 4);
  const out: string[] = [];
  if (options.usage) out.push(options.usage, "");
  for (const paragraph of options.description?.split(/\n\n+/) ?? []) out.push(...wrap(paragraph, width), "");
  sections.forEach((section, i) => {
    if (i > 0) out.push("");
    out.push(section.title);
    for (const [flag, text] of section.rows) {
      const body = wrap(text, Math.max(20, width - col));
      const head = `  ${flag}`;
      if (head.length + 2 <= col) {
        out.push(`${head.padEnd(col)}${body[0]}`.trimEnd());
        for (const l of body.slice(1)) out.push(`${" ".repeat(col)}${l}`);
      } else {
        out.push(head);
        for (const l of text.length > 0 ? body : []) out.push(`${" ".repeat(col)}${l}`);
      }
    }
  });
  return `${out.join("\n")}\n`;
}

const HELP_ROW: [string, string] = ["-h, --help", "Show this help."];

/** Help text listing every schema key as a flag, with its description, allowed values and default. */
export function formatHelp(schema: ObjectSchema, options: HelpOptions = {}): string {
  const rows = helpRows(shapeOf(schema), options.values, options.valuesLabel ?? "preset", options.hide);
  return renderHelp([{ title: "Options:", rows: [...rows, HELP_ROW] }], options);
}

/**
 * Help for a command with its own options (e.g. --preset, --resume) and a config schema, in two
 * sections. `values` (e.g. the chosen preset) are shown next to the config defaults.
 */
export function formatCommandHelp(
  commandSchema: ObjectSchema,
  configSchema: ObjectSchema,
  options: HelpOptions & { commandTitle?: string; configTitle?: string } = {},
): string {
  const label = options.valuesLabel ?? "preset";
  return renderHelp(
    [
      { title: options.commandTitle ?? "Options:", rows: [...helpRows(shapeOf(commandSchema), undefined, label, options.hide), HELP_ROW] },
      { title: options.configTitle ?? "Configuration (any key overrides the preset):", rows: helpRows(shapeOf(configSchema), options.values, label, options.hide) },
    ],
    options,
  );
}
