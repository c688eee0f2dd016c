// The README's library snippet runs verbatim (issue 10): extracted from README.md, run twice in a
// fresh directory with `fathom` mapped to this checkout's sources (tsconfig paths, as tsx reads
// them), so a second run does not refuse to overwrite its file. Against the built package it is
// the same code: `import ... from "fathom"` resolves to dist/ through package.json's exports.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const root = new URL("../..", import.meta.url).pathname;

function librarySnippet(): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Library"));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(m, "README.md has a ts block under ## Library");
  return m[1];
}

test("the Library snippet defines its inputs and uses every name it imports", () => {
  const code = librarySnippet();
  const imported = /import \{([^}]*)\} from "fathom"/.exec(code)?.[1].split(",").map((s) => s.trim()) ?? [];
  assert.ok(imported.length > 0);
  const body = code.slice(code.indexOf('from "fathom"'));
  for (const name of imported) assert.match(body, new RegExp(`\\b${name}\\b`), `${name} is imported but not used`);
  assert.match(code, /const x = /);
  assert.match(code, /node --import tsx example\.mts/);
});

test("the Library snippet runs as example.mts, twice in the same directory", () => {
  const dir = mkdtempSync(join(tmpdir(), "fathom-readme-"));
  writeFileSync(join(dir, "example.mts"), librarySnippet());
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { paths: { fathom: [join(root, "src/index.ts")] } } }));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(join(root, "node_modules/tsx"), join(dir, "node_modules/tsx"));
  for (let i = 0; i < 2; i++) {
    const r = spawnSync(process.execPath, ["--import", "tsx", "example.mts"], { cwd: dir, encoding: "utf8", timeout: 300_000 });
    assert.equal(r.status, 0, `run ${i + 1}: ${r.stderr}`);
    assert.match(r.stdout, /step 2: loss \d+\.\d+/);
    assert.match(r.stdout, /reloaded \d+ parameters/);
  }
});
