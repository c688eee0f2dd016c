// `npm run bench -- <name> [options]`: runs bench/<name>.ts, which prints one JSON object per line.
// Benchmarks never fail a test; they print numbers (DESIGN §7).
import { readdirSync } from "node:fs";

const here = new URL(".", import.meta.url);
const available = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "main.ts" && !f.startsWith("_"))
  .map((f) => f.slice(0, -3))
  .sort();
const [name, ...rest] = process.argv.slice(2);
if (!name || name === "--help" || name === "-h") {
  console.error(`usage: npm run bench -- <name> [options]\n  names: ${available.join(", ")}, all`);
  process.exit(name ? 0 : 2);
}
const names = name === "all" ? available : [name];
for (const n of names) {
  if (!available.includes(n)) {
    console.error(`unknown benchmark "${n}": available are ${available.join(", ")}, all`);
    process.exit(2);
  }
  const mod = (await import(new URL(`./${n}.ts`, here).href)) as { run(args: string[]): Promise<void> };
  await mod.run(rest);
}
