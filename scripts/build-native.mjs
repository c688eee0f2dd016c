#!/usr/bin/env node
// Builds the native CPU backend (native/*.c → build/Release/fathom_native.node) with node-gyp.
// Runs on `npm ci`. If the build fails, Fathom still works on the pure-TypeScript `ref` backend,
// so this script warns loudly and exits 0, unless called with --strict (npm run build:native).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const strict = process.argv.includes("--strict");

if (!existsSync(join(root, "binding.gyp"))) {
  console.warn("fathom: no binding.gyp, skipping the native backend build");
  process.exit(0);
}
if (process.env.FATHOM_SKIP_NATIVE === "1") {
  console.warn("fathom: FATHOM_SKIP_NATIVE=1, skipping the native backend build");
  process.exit(0);
}

// npm puts its bundled node-gyp on PATH for install scripts; fall back to npx otherwise.
const candidates = [
  ["node-gyp", ["rebuild"]],
  ["npx", ["--no-install", "node-gyp", "rebuild"]],
];
let ok = false;
for (const [cmd, args] of candidates) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
  if (r.error && r.error.code === "ENOENT") continue;
  ok = r.status === 0;
  break;
}
if (!ok) {
  const msg =
    "fathom: WARNING: the native backend did not build; Fathom will run on the slow pure-TypeScript `ref` backend.\n" +
    "        Needs python3, make and a C compiler (g++/clang) with Node's headers. Retry with `npm run build:native`.";
  console.warn(msg);
  process.exit(strict ? 1 : 0);
}
