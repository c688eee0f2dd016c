// The viewer's local web server (`fathom view`): the page (src/view/web/, plain ES modules), its
// libraries straight from node_modules (three.js, uPlot: nothing from a CDN, so it works offline),
// and a small JSON API over the run directories:
//   GET /api/info                      version, default seed and episode count
//   GET /api/runs                      RunInfo[] (./runs.ts), read afresh
//   GET /api/curves?run=I              the run's eval and training curves
//   GET /api/episodes?run=I&checkpoint=NAME&env=ID&seed=S&episodes=N
//                                      a trajectory file (./trajectories.ts) from the run's cache,
//                                      recorded on demand (./episodes.ts)
// It listens on 127.0.0.1 only and answers only requests addressed to it by that name or
// localhost (a page elsewhere cannot reach it through DNS rebinding).
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { cachedEpisodes, DEFAULT_VIEW_EPISODES, DEFAULT_VIEW_SEED } from "./episodes.js";
import { runCurves, runInfo, type ViewRun } from "./runs.js";

/** The package root (this file is src/view/server.ts, or dist/view/server.js when compiled). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The page's own files. */
export const WEB_DIR = join(ROOT, "src", "view", "web");

/** A folder of a package, found through Node's resolution of one of its entry points. */
function packageDir(specifier: string, up: number): string {
  let p = fileURLToPath(import.meta.resolve(specifier));
  for (let i = 0; i < up; i++) p = dirname(p);
  return p;
}

/** URL prefix → folder served under it. */
function staticRoots(): [string, string][] {
  return [
    ["/app/", WEB_DIR],
    ["/vendor/three/", packageDir("three", 1)], // build/three.module.js and the files it imports
    ["/vendor/three-addons/", packageDir("three/addons/controls/OrbitControls.js", 2)], // examples/jsm/
    ["/vendor/uplot/", packageDir("uplot", 1)], // dist/uPlot.esm.js, uPlot.min.css
  ];
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

export interface ViewServerOptions {
  runs: ViewRun[];
  /** Fathom's version (written into recorded files, shown in the page). */
  fathom: string;
  /** 0 (default): any free port. */
  port?: number;
  /** Where progress lines go (recording episodes, errors); default console.error. */
  log?: (line: string) => void;
}

export interface ViewServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, cache = false): void {
  res.writeHead(status, {
    "content-type": type,
    "cache-control": cache ? "max-age=3600" : "no-store",
    "x-content-type-options": "nosniff",
  });
  res.end(body);
}

function sendJson(res: ServerResponse, value: unknown): void {
  send(res, 200, TYPES[".json"], JSON.stringify(value));
}

function intParam(q: URLSearchParams, name: string, def?: number): number {
  const v = q.get(name);
  if (v === null || v === "") {
    if (def === undefined) throw new HttpError(400, `missing parameter ${name}`);
    return def;
  }
  if (!/^\d+$/.test(v)) throw new HttpError(400, `parameter ${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Starts the server; resolves once it listens. */
export async function startViewServer(o: ViewServerOptions): Promise<ViewServer> {
  const log = o.log ?? ((l: string) => console.error(l));
  const roots = staticRoots();
  if (!existsSync(join(WEB_DIR, "index.html"))) throw new Error(`the viewer's page is missing (${join(WEB_DIR, "index.html")}); reinstall Fathom`);
  let port = 0;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);

  function run(q: URLSearchParams): ViewRun {
    const i = intParam(q, "run");
    const v = o.runs[i];
    if (v === undefined) throw new HttpError(404, `no run ${i}: the viewer has runs 0..${o.runs.length - 1}`);
    return v;
  }

  function serveStatic(pathname: string, res: ServerResponse): void {
    if (pathname === "/" || pathname === "/index.html") {
      send(res, 200, TYPES[".html"], readFileSync(join(WEB_DIR, "index.html")));
      return;
    }
    for (const [prefix, dir] of roots) {
      if (!pathname.startsWith(prefix)) continue;
      const rel = pathname.slice(prefix.length);
      const file = resolve(dir, rel);
      const type = TYPES[extname(file)];
      if (!file.startsWith(dir + sep) || type === undefined || !existsSync(file) || !statSync(file).isFile()) break;
      send(res, 200, type, readFileSync(file), prefix !== "/app/");
      return;
    }
    throw new HttpError(404, `not found: ${pathname}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!allowedHosts().has(req.headers.host ?? "")) throw new HttpError(403, `this server answers requests to 127.0.0.1:${port} or localhost:${port} only`);
    if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, `method ${req.method} not allowed`);
    const url = new URL(req.url ?? "/", `http://127.0.0.1:${port}`);
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      throw new HttpError(400, "malformed path");
    }
    const q = url.searchParams;
    switch (pathname) {
      case "/api/info":
        sendJson(res, { fathom: o.fathom, defaults: { seed: DEFAULT_VIEW_SEED, episodes: DEFAULT_VIEW_EPISODES } });
        return;
      case "/api/runs":
        sendJson(res, o.runs.map(runInfo));
        return;
      case "/api/curves":
        sendJson(res, runCurves(run(q)));
        return;
      case "/api/episodes": {
        const v = run(q);
        const req = {
          checkpoint: q.get("checkpoint") ?? undefined,
          env: q.get("env") ?? undefined,
          seed: intParam(q, "seed", DEFAULT_VIEW_SEED),
          episodes: intParam(q, "episodes", DEFAULT_VIEW_EPISODES),
        };
        let got: Awaited<ReturnType<typeof cachedEpisodes>>;
        try {
          got = await cachedEpisodes(v, req, { fathom: o.fathom, log });
        } catch (e) {
          throw new HttpError(400, (e as Error).message);
        }
        send(res, 200, TYPES[".json"], got.text);
        return;
      }
      default:
        serveStatic(pathname, res);
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      const message = e instanceof Error ? e.message : String(e);
      if (status === 500) log(`error serving ${req.url}: ${e instanceof Error ? (e.stack ?? message) : message}`);
      if (!res.headersSent) send(res, status, TYPES[".json"], JSON.stringify({ error: message }));
      else res.end();
    });
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "EADDRINUSE" ? new Error(`port ${o.port} is in use: choose another with --port, or --port 0 for any free one`) : e),
    );
    server.listen(o.port ?? 0, "127.0.0.1", () => resolvePromise());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.closeAllConnections();
        server.close(() => resolvePromise());
      }),
  };
}
