// Runs the CLI in this process: `node dist/cli/bin.js <args>` (what `fathom sweep --jobs N` starts
// for each run; bin/fathom.js is the installed entry point and does the same).
import { run } from "./main.js";

process.exitCode = await run(process.argv.slice(2));
