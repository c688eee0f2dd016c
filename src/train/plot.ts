// Learning curves as a self-contained SVG (no plotting dependency): time at goal against env
// steps, one line per group (e.g. depth) = the mean over its runs (seeds), with a band from the
// lowest to the highest run.

export interface Curve {
  /** Group label, e.g. "depth 16". */
  group: string;
  /** [envsteps, value] points of one run, in order. */
  points: [number, number][];
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmtSteps(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return String(v);
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Aggregates runs per group on the union of their x values (a run counts where it has a point). */
export function aggregate(curves: Curve[]): Map<string, { x: number; mean: number; lo: number; hi: number; n: number }[]> {
  const groups = new Map<string, Curve[]>();
  for (const c of curves) {
    const g = groups.get(c.group) ?? [];
    g.push(c);
    groups.set(c.group, g);
  }
  const out = new Map<string, { x: number; mean: number; lo: number; hi: number; n: number }[]>();
  for (const [g, cs] of groups) {
    const xs = [...new Set(cs.flatMap((c) => c.points.map((p) => p[0])))].sort((a, b) => a - b);
    const rows = [];
    for (const x of xs) {
      const vals = cs.map((c) => c.points.find((p) => p[0] === x)?.[1]).filter((v): v is number => v !== undefined);
      if (vals.length === 0) continue;
      rows.push({ x, mean: vals.reduce((a, b) => a + b, 0) / vals.length, lo: Math.min(...vals), hi: Math.max(...vals), n: vals.length });
    }
    out.set(g, rows);
  }
  return out;
}

export function learningCurvesSvg(curves: Curve[], opts: { title: string; yLabel: string; yMax?: number }): string {
  const W = 720;
  const H = 440;
  const m = { l: 70, r: 150, t: 40, b: 55 };
  const agg = aggregate(curves);
  let xMax = 1;
  let yMax = opts.yMax ?? 0;
  for (const rows of agg.values())
    for (const r of rows) {
      xMax = Math.max(xMax, r.x);
      if (opts.yMax === undefined) yMax = Math.max(yMax, r.hi);
    }
  yMax = niceMax(yMax);
  const sx = (x: number) => m.l + (x / xMax) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - (y / yMax) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2 - m.r / 2}" y="22" text-anchor="middle" font-size="15">${esc(opts.title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const y = (yMax * i) / 5;
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 6}" y="${sy(y) + 4}" text-anchor="end">${+y.toFixed(2)}</text>`);
    const x = (xMax * i) / 5;
    parts.push(`<text x="${sx(x)}" y="${H - m.b + 18}" text-anchor="middle">${fmtSteps(Math.round(x))}</text>`);
  }
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="black"/>`);
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="black"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">env steps</text>`);
  parts.push(`<text transform="translate(18 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text>`);
  let k = 0;
  for (const [g, rows] of agg) {
    const color = PALETTE[k % PALETTE.length];
    if (rows.length > 0) {
      const band = [...rows.map((r) => `${sx(r.x)},${sy(r.hi)}`), ...rows.reverse().map((r) => `${sx(r.x)},${sy(r.lo)}`)];
      rows.reverse();
      parts.push(`<polygon points="${band.join(" ")}" fill="${color}" fill-opacity="0.15" stroke="none"/>`);
      parts.push(`<polyline points="${rows.map((r) => `${sx(r.x)},${sy(r.mean)}`).join(" ")}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    const n = curves.filter((c) => c.group === g).length;
    const ly = m.t + 10 + 20 * k;
    parts.push(`<line x1="${W - m.r + 12}" x2="${W - m.r + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    parts.push(`<text x="${W - m.r + 38}" y="${ly + 4}">${esc(g)} (${n} run${n === 1 ? "" : "s"})</text>`);
    k++;
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
