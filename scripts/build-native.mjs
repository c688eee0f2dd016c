#!/usr/bin/env node
// Builds the native CPU backend (native/*.c → build/Release/fathom_native.node) with node-gyp.
// Runs on `npm ci`. If the build fails, Fathom still works on the pure-TypeScript `ref` backend,
// so this script warns loudly and exits 0, unless called with --strict (npm run build:native) or
// with FATHOM_NATIVE_STRICT=1 in the environment (CI: .ci/run), where a failed build is an error.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const strict = process.argv.includes("--strict") || process.env.FATHOM_NATIVE_STRICT === "1";

if (!existsSync(join(root, "binding.gyp"))) {
  console.warn("fathom: no binding.gyp, skipping the native backend build");
  process.exit(0);
}
if (process.env.FATHOM_SKIP_NATIVE === "1") {
  console.warn("fathom: FATHOM_SKIP_NATIVE=1, skipping the native backend build");
  process.exit(0);
}

// Node's own headers, when installed beside the binary (Debian's nodejs, official tarballs), so
// node-gyp needs no download; npm passes its `nodedir` setting through npm_config_nodedir.
const prefix = join(dirname(process.execPath), "..");
const gypArgs = ["rebuild"];
if (!process.env.npm_config_nodedir && existsSync(join(prefix, "include", "node", "node_api.h"))) {
  gypArgs.push(`--nodedir=${prefix}`);
}
// npm puts its bundled node-gyp on PATH for install scripts; outside npm, use npm's copy
// directly, then npx.
const npmGyp = join(prefix, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
const candidates = [
  ["node-gyp", gypArgs],
  ...(existsSync(npmGyp) ? [[process.execPath, [npmGyp, ...gypArgs]]] : []),
  ["npx", ["--no-install", "node-gyp", ...gypArgs]],
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
