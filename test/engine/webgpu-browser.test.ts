// The WebGPU backend in a browser page (issue 16): headless Chromium (Debian's, through
// playwright-core) with WebGPU on, a page whose modules are this checkout's sources compiled one
// by one by TypeScript's transpileModule (what `npm run build` writes to dist/, plain ES modules:
// no bundler), and the page's navigator.gpu. In the page: the Backend's kernel calls, packed here
// by PackedKernels exactly as WebGpuBackend packs them and run there by CallRunner (GEMM in every
// layout with odd sizes, a large K and accumulation, LayerNorm forward and backward, the fused
// Dense→LayerNorm→Swish both ways, Adam, Swish, bias, in-place operands), and two GpuCRL updates
// (three ResNets forward and backward, the losses, Adam) from a CRLAgent's state; each against
// the ref backend here in Node. Also the minimal page of docs/webgpu-browser.md, as written there.
// Without Chromium, or without an adapter in it, skipped loudly (FATHOM_REQUIRE_BROWSER=1,
// FATHOM_REQUIRE_WEBGPU=1: a failure instead).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve, sep } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import ts from "typescript";
import { CRL_DEFAULTS, CRLAgent, type CRLConfig, type CRLMetrics } from "../../src/agents/crl.js";
import { RefBackend } from "../../src/engine/ref/ref.js";
import { type Operand, type PackedCall, PackedKernels, packCall } from "../../src/engine/webgpu/calls.js";
import type { Tensor } from "../../src/nn/safetensors.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { type Browser, CHROMIUM_WEBGPU_FLAGS, launchChromium } from "../../src/view/browser.js";
import { chromiumSkip } from "../view/browser-skip.js";
import type { CrlRun } from "./webgpu-browser-page.js";
import { absProductNorm, maxAbs, relNorm, rms } from "./twin.js";
import { webgpuMissing } from "./webgpu-skip.js";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const DOC = join(ROOT, "docs", "webgpu-browser.md");

// ───────────── the page's server ─────────────

/** The minimal page of docs/webgpu-browser.md (its ```html block). */
function docPage(): string {
  const m = /```html\n([\s\S]*?)```/.exec(readFileSync(DOC, "utf8"));
  assert.ok(m, "docs/webgpu-browser.md has an html block");
  return m[1];
}

const INDEX = `<!doctype html><meta charset="utf-8"><title>fathom webgpu test</title>
<script type="importmap">{ "imports": { "zod": "/node_modules/zod/index.js" } }</script>`;

/**
 * Serves / (an empty page with the import map), /doc/index.html (the doc's page) and modules:
 * /src/… and /test/… as the .ts beside the .js asked for, compiled; /doc/fathom/… the same from
 * src/ (where the doc's page has dist/); /node_modules/zod/… and /doc/zod/… as they are.
 */
async function startServer(): Promise<{ url: string; server: Server }> {
  const compiled = new Map<string, string>();
  const inside = (dir: string, rel: string) => {
    const p = resolve(dir, rel);
    return p.startsWith(dir + sep) ? p : null;
  };
  const moduleFile = (path: string): { file: string; ts: boolean } | null => {
    const zod = /^\/(?:node_modules|doc)\/zod\/(.+\.js)$/.exec(path);
    if (zod) {
      const f = inside(join(ROOT, "node_modules", "zod"), zod[1]);
      return f && existsSync(f) ? { file: f, ts: false } : null;
    }
    const src = /^\/(?:(src|test)|doc\/fathom)\/(.+)\.js$/.exec(path);
    if (!src) return null;
    const f = inside(join(ROOT, src[1] ?? "src"), `${src[2]}.ts`);
    return f && existsSync(f) ? { file: f, ts: true } : null;
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (path === "/") return send(200, "text/html; charset=utf-8", INDEX);
    if (path === "/favicon.ico") return send(204, "text/plain", "");
    if (path === "/doc/index.html") return send(200, "text/html; charset=utf-8", docPage());
    const m = moduleFile(path);
    if (!m) {
      pageErrors.push(`the page asked for ${path}, which the server does not have`);
      return send(404, "text/plain", `not found: ${path}`);
    }
    let body = compiled.get(m.file);
    if (body === undefined) {
      const text = readFileSync(m.file, "utf8");
      body = m.ts ? ts.transpileModule(text, { fileName: m.file, compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText : text;
      compiled.set(m.file, body);
    }
    send(200, "text/javascript; charset=utf-8", body);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

// ───────────── Chromium, and the page's adapter ─────────────

// biome-ignore lint/suspicious/noExplicitAny: the page's globals, untyped here
type PageGlobal = any;

let skip: string | false = chromiumSkip();
let server: Server | null = null;
let url = "";
let browser: Browser | null = null;
let page: Page | null = null;
let adapterLine = "";
const pageErrors: string[] = [];

async function closeAll(): Promise<void> {
  await browser?.close();
  server?.close();
}

if (skip === false) {
  ({ url, server } = await startServer());
  browser = await launchChromium({ width: 800, height: 600 }, undefined, CHROMIUM_WEBGPU_FLAGS);
  page = await browser.context.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(m.text());
  });
  await page.goto(`${url}/`);
  const r = await page.evaluate(async (u: string) => {
    const h = await import(u);
    (globalThis as PageGlobal).fathomPage = h;
    return h.setup();
  }, "/test/engine/webgpu-browser-page.js");
  if ("missing" in r) {
    await closeAll();
    skip = webgpuMissing(`headless Chromium (${CHROMIUM_WEBGPU_FLAGS.join(" ")}): ${r.missing}`);
  } else {
    adapterLine = r.adapter;
  }
}

/** The Backend's kernels, packed as WebGpuBackend packs them, run on the page's device. */
class PageKernels extends PackedKernels {
  private pending: PackedCall[] = [];
  protected call(name: string, operands: Record<string, Operand>, written: readonly string[], scalars: Record<string, number>): void {
    this.pending.push(packCall(name, operands, written, scalars));
  }
  /** Runs the calls made since the last run, in order, and writes their outputs back. */
  async run(): Promise<void> {
    for (const c of this.pending.splice(0)) {
      const outs = await page!.evaluate((req) => (globalThis as PageGlobal).fathomPage.runCall(req), c.req);
      c.unpack(outs);
    }
  }
}

// ───────────── comparisons (as webgpu.test.ts) ─────────────

const ref = new RefBackend();
const rng = new Rng(keyFromSeed(16));
const randn = (n: number, scale = 1, shift = 0) => Float32Array.from({ length: n }, () => shift + scale * rng.normal());
const worst = new Map<string, number>();

function record(name: string, e: number, tol: number): void {
  const family = name.split(" ")[0];
  worst.set(family, Math.max(worst.get(family) ?? 0, e));
  assert.ok(e <= tol, `${name}: relative error ${e.toExponential(2)} > ${tol}`);
}
/** Largest |a − b| / (|b| + floor) with floor = max(rms(b), absFloor): element by element. */
function closeElem(name: string, a: Float32Array, b: Float32Array, tol = 1e-5, absFloor = 0): void {
  assert.equal(a.length, b.length, name);
  const floor = Math.max(rms(b), absFloor, 1e-30);
  let e = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + floor);
    if (!(d <= e)) e = d;
  }
  record(name, e, tol);
}

// ───────────── the tests ─────────────

describe("the WebGPU backend in a browser page (headless Chromium, navigator.gpu)", { skip }, () => {
  const pk = new PageKernels();
  after(async () => {
    console.log(`# WebGPU in Chromium on ${adapterLine}; worst relative errors: ${[...worst].map(([k, v]) => `${k} ${v.toExponential(1)}`).join(", ")}`);
    await closeAll();
    assert.deepEqual(pageErrors, [], "errors in the page");
  });

  test("the page's adapter is opened through the browser entry point, and the modules load without Node", () => {
    assert.ok(adapterLine.length > 0);
    console.log(`# the page's adapter: ${adapterLine}`);
  });

  test("gemm: all four layouts, alpha/beta (accumulate, and beta = 0 over NaNs), odd sizes; a large K", async () => {
    const cases: [number, number, number, number, number][] = [];
    for (const [m, n, k] of [
      [37, 29, 53],
      [1, 129, 70],
      [65, 63, 17],
    ]) {
      for (const [alpha, beta] of [
        [0.7, -1.3],
        [1, 0],
      ]) {
        cases.push([m, n, k, alpha, beta]);
      }
    }
    for (const [m, n, k, alpha, beta] of cases) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const a = randn(m * k);
          const b = randn(k * n);
          const c0 = randn(m * n);
          if (beta === 0) c0.fill(Number.NaN); // beta = 0 overwrites: NaNs must not survive
          const [cr, cg] = [c0.slice(), c0.slice()];
          ref.gemm(transA, transB, m, n, k, alpha, a, b, beta, cr);
          pk.gemm(transA, transB, m, n, k, alpha, a, b, beta, cg);
          await pk.run();
          const s = `gemm ${m}x${n}x${k} tA=${transA} tB=${transB} α=${alpha} β=${beta}`;
          record(s, relNorm(cg, cr, 1e-30), 1e-5);
        }
      }
    }
    const [m, n, k] = [33, 70, 2053];
    for (const [transA, transB] of [
      [false, false],
      [true, false],
      [false, true],
    ] as const) {
      const a = randn(m * k);
      const b = randn(k * n);
      const [cr, cg] = [new Float32Array(m * n), new Float32Array(m * n)];
      ref.gemm(transA, transB, m, n, k, 1, a, b, 0, cr);
      pk.gemm(transA, transB, m, n, k, 1, a, b, 0, cg);
      await pk.run();
      record(`gemm large K ${k} tA=${transA} tB=${transB}`, relNorm(cg, cr, absProductNorm(transA, transB, m, n, k, a, b)), 1e-5);
    }
  });

  test("layerNormForward and layerNormBackward (also in place: aliased operands share one upload)", async () => {
    for (const [rows, cols] of [
      [13, 45],
      [130, 256],
    ]) {
      const x = randn(rows * cols, 2, 0.5);
      const gamma = randn(cols, 0.5, 1);
      const beta = randn(cols, 0.3);
      const out = () => [new Float32Array(rows * cols), new Float32Array(rows), new Float32Array(rows)] as const;
      const [yr, mr, rr] = out();
      const [yg, mg, rg] = out();
      ref.layerNormForward(x, gamma, beta, yr, mr, rr, rows, cols, 1e-6);
      pk.layerNormForward(x, gamma, beta, yg, mg, rg, rows, cols, 1e-6);
      const xin = x.slice();
      pk.layerNormForward(xin, gamma, beta, xin, new Float32Array(rows), new Float32Array(rows), rows, cols, 1e-6);
      await pk.run();
      const s = `${rows}x${cols}`;
      closeElem(`lnFwd y ${s}`, yg, yr);
      closeElem(`lnFwd mean ${s}`, mg, mr);
      closeElem(`lnFwd rstd ${s}`, rg, rr);
      closeElem(`lnFwd in-place ${s}`, xin, yr);
      const dy = randn(rows * cols);
      const [dgr, dbr] = [randn(cols), randn(cols)];
      const [dgg, dbg] = [dgr.slice(), dbr.slice()];
      const [dxr, dxg] = [new Float32Array(rows * cols), new Float32Array(rows * cols)];
      ref.layerNormBackward(dy, x, mr, rr, gamma, dxr, dgr, dbr, rows, cols);
      pk.layerNormBackward(dy, x, mr, rr, gamma, dxg, dgg, dbg, rows, cols);
      await pk.run();
      const dxScale = maxAbs(rr) * rms(dy) * maxAbs(gamma);
      closeElem(`lnBwd dx ${s}`, dxg, dxr, 1e-5, dxScale);
      closeElem(`lnBwd dgamma ${s}`, dgg, dgr);
      closeElem(`lnBwd dbeta ${s}`, dbg, dbr);
    }
  });

  test("denseLnSwishForward and denseLnSwishBackward (dW, db, dγ, dβ accumulate; with and without dx, dW)", async () => {
    for (const [rows, inD, outD] of [
      [3, 17, 5],
      [17, 33, 29],
      [130, 64, 96],
    ]) {
      const x = randn(rows * inD);
      const w = randn(inD * outD, 1 / Math.sqrt(inD));
      const bias = randn(outD, 0.1);
      const gamma = randn(outD, 0.2, 1);
      const beta = randn(outD, 0.2);
      const outs = () => [new Float32Array(rows * outD), new Float32Array(rows), new Float32Array(rows), new Float32Array(rows * outD)] as const;
      const [zr, mr, rr, yr] = outs();
      const [zg, mg, rg, yg] = outs();
      ref.denseLnSwishForward(x, w, bias, gamma, beta, zr, mr, rr, yr, rows, inD, outD, 1e-6);
      pk.denseLnSwishForward(x, w, bias, gamma, beta, zg, mg, rg, yg, rows, inD, outD, 1e-6);
      await pk.run();
      const s = `${rows}x${inD}->${outD}`;
      closeElem(`fusedFwd z ${s}`, zg, zr);
      closeElem(`fusedFwd mean ${s}`, mg, mr);
      closeElem(`fusedFwd rstd ${s}`, rg, rr);
      closeElem(`fusedFwd y ${s}`, yg, yr);
      const dy = randn(rows * outD);
      const accs = [randn(inD * outD), randn(outD), randn(outD), randn(outD)];
      for (const [withDx, withDw] of [
        [true, true],
        [false, false],
      ]) {
        const [dwr, dbr, dgr, dber] = accs.map((a) => a.slice());
        const [dwg, dbg, dgg, dbeg] = accs.map((a) => a.slice());
        const [dyr, dyg] = [dy.slice(), dy.slice()];
        const dxr = new Float32Array(rows * inD);
        const dxg = withDx ? new Float32Array(rows * inD) : null;
        ref.denseLnSwishBackward(dyr, x, w, gamma, beta, zr, mr, rr, dxr, dwr, dbr, dgr, dber, rows, inD, outD);
        pk.denseLnSwishBackward(dyg, x, w, gamma, beta, zr, mr, rr, dxg, withDw ? dwg : null, dbg, dgg, dbeg, rows, inD, outD);
        await pk.run();
        const t = `${s} dx=${withDx} dw=${withDw}`;
        closeElem(`fusedBwd dz ${t}`, dyg, dyr, 1e-5, maxAbs(rr) * rms(dy) * maxAbs(gamma));
        if (dxg) record(`fusedBwd dx ${t}`, relNorm(dxg, dxr, absProductNorm(false, true, rows, inD, outD, dyr, w)), 1e-5);
        if (withDw) record(`fusedBwd dw ${t}`, relNorm(dwg, dwr, absProductNorm(true, false, inD, outD, rows, x, dyr)), 1e-5);
        else assert.deepEqual(dwg, accs[0], "dW left out: untouched");
        closeElem(`fusedBwd db ${t}`, dbg, dbr);
        closeElem(`fusedBwd dgamma ${t}`, dgg, dgr);
        closeElem(`fusedBwd dbeta ${t}`, dbeg, dber);
      }
    }
  });

  test("adamStep, swish both ways, biasAdd and biasBackward, add in place", async () => {
    for (const [n, step] of [
      [1001, 1],
      [4099, 7],
    ]) {
      const p = randn(n);
      const g = randn(n, 0.01);
      const m = randn(n, 0.01);
      const v = randn(n, 1e-4).map(Math.abs);
      const [pr, mr, vr, pg, mg, vg] = [p, m, v, p, m, v].map((a) => a.slice());
      ref.adamStep(pr, g, mr, vr, n, 3e-4, 0.9, 0.999, 1e-8, step);
      pk.adamStep(pg, g, mg, vg, n, 3e-4, 0.9, 0.999, 1e-8, step);
      await pk.run();
      closeElem(`adam param n=${n} step=${step}`, pg, pr);
      closeElem(`adam m n=${n}`, mg, mr);
      closeElem(`adam v n=${n}`, vg, vr);
    }
    const n = 3001;
    const x = randn(n, 4);
    x[0] = 100;
    x[1] = -100;
    x[2] = 0;
    const dy = randn(n);
    const [yr, yg, dxr, dxg] = [0, 0, 0, 0].map(() => new Float32Array(n));
    ref.swishForward(x, yr, n);
    pk.swishForward(x, yg, n);
    ref.swishBackward(dy, x, dxr, n);
    pk.swishBackward(dy, x, dxg, n);
    const [rows, cols] = [37, 81];
    const xb = randn(rows * cols);
    const bias = randn(cols);
    const [xbr, xbg] = [xb.slice(), xb.slice()];
    ref.biasAdd(xbr, bias, rows, cols);
    pk.biasAdd(xbg, bias, rows, cols);
    const db0 = randn(cols);
    const [dbr, dbg] = [db0.slice(), db0.slice()];
    ref.biasBackward(xb, dbr, rows, cols);
    pk.biasBackward(xb, dbg, rows, cols);
    const a = randn(n);
    const [ar, ag] = [a.slice(), a.slice()];
    ref.add(ar, dy, ar, n);
    pk.add(ag, dy, ag, n);
    await pk.run();
    closeElem("swishFwd", yg, yr);
    closeElem("swishBwd", dxg, dxr);
    closeElem("biasAdd", xbg, xbr);
    closeElem("biasBackward", dbg, dbr);
    closeElem("add in-place", ag, ar, 0);
  });

  test("two GpuCRL updates in the page (three ResNets forward and backward, losses, Adam, α) match CRLAgent on the ref backend", async () => {
    const dims = { stateDim: 5, goalDim: 2, actionDim: 3 };
    const cfg: CRLConfig = { ...CRL_DEFAULTS, actorDepth: 4, criticDepth: 4, actorWidth: 32, criticWidth: 32, reprDim: 16, batchSize: 16 };
    const B = cfg.batchSize;
    const batch = (seed: number) => {
      const r = new Rng(keyFromSeed(seed));
      const f = (n: number, s = 1) => Float32Array.from({ length: n }, () => s * r.normal());
      return { state: f(B * dims.stateDim), action: f(B * dims.actionDim, 0.5).map(Math.tanh), goal: f(B * dims.goalDim) };
    };
    const agent = new CRLAgent(ref, dims, cfg, keyFromSeed(7));
    const b0 = batch(40);
    agent.update(b0.state, b0.action, b0.goal); // Adam's moments and log α away from their initial values
    const start = agent.stateTensors();
    const batches = [batch(50), batch(51)];
    const run: CrlRun = await page!.evaluate(
      (a) => (globalThis as PageGlobal).fathomPage.crlUpdates(a.dims, a.cfg, a.state, a.batches),
      { dims, cfg, state: [...start], batches },
    );
    const cpu: CRLMetrics[] = batches.map((b) => agent.update(b.state, b.action, b.goal));
    run.metrics.forEach((mg, u) => {
      for (const [k, v] of Object.entries(cpu[u])) {
        const g = (mg as unknown as Record<string, number>)[k];
        record(`crl metric ${k} (update ${u + 1})`, Math.abs(g - v) / (Math.abs(v) + 1e-3), 2e-4);
      }
    });
    const gpu = new Map<string, Tensor>(run.state);
    const end = agent.stateTensors();
    for (const [name, t] of end) {
      const g = gpu.get(name);
      assert.ok(g, `the page's state lacks ${name}`);
      assert.deepEqual(g.shape, t.shape, name);
      if (name === "rng.state" || name.endsWith(".step")) {
        assert.deepEqual(Array.from(g.data), Array.from(t.data), `${name}: the same draws and step counts`);
      } else if (name === "alpha.state") {
        for (let i = 0; i < 5; i++) assert.ok(Math.abs(g.data[i] - t.data[i]) <= 1e-4 * (Math.abs(t.data[i]) + 1e-3), `alpha.state[${i}]: ${g.data[i]} vs ${t.data[i]}`);
      } else if (name.startsWith("optim.")) {
        record(`crl adam ${name}`, relNorm(g.data as Float32Array, t.data as Float32Array), 1e-3);
      } else {
        // the parameters' change over the two updates (Adam's steps are ±lr where |g| ≫ √v·eps)
        const s = start.get(name)!.data;
        const dg = Float32Array.from(g.data, (x, i) => x - s[i]);
        const dc = Float32Array.from(t.data, (x, i) => x - s[i]);
        record(`crl step ${name}`, relNorm(dg, dc), 1e-3);
      }
    }
    console.log(`# GpuCRL in the page: ${run.dispatches} dispatches per update`);
  });

  test("the minimal page of docs/webgpu-browser.md runs as written and prints its product and adapter", async () => {
    const p = await browser!.context.newPage();
    try {
      await p.goto(`${url}/doc/index.html`);
      await p.waitForFunction("document.getElementById('out').textContent !== 'running…'", undefined, { timeout: 120_000 });
      const text = (await p.textContent("#out")) ?? "";
      assert.match(text, /^C = 4, 5, 10, 11\non \S/, text);
    } finally {
      await p.close();
    }
  });
});
