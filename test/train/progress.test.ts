import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, formatMetric, formatRate, ProgressReporter } from "../../src/train/progress.js";

function fakeStream(isTTY: boolean, columns?: number) {
  const chunks: string[] = [];
  return { chunks, isTTY, columns, write: (c: string) => chunks.push(c) };
}

test("formatting helpers", () => {
  assert.equal(formatDuration(9.4), "9s");
  assert.equal(formatDuration(185), "3m05s");
  assert.equal(formatDuration(3725), "1h02m");
  assert.equal(formatDuration(2 * 86400 + 3 * 3600), "2d03h");
  assert.equal(formatDuration(Number.NaN), "?");
  assert.equal(formatRate(31744), "31.7k");
  assert.equal(formatRate(950.4), "950");
  assert.equal(formatRate(2.5e6), "2.50M");
  assert.equal(formatRate(1.234), "1.23");
  assert.equal(formatMetric(6.123456), "6.123");
  assert.equal(formatMetric(-0.000012), "-1.20e-5");
  assert.equal(formatMetric(0), "0");
  assert.equal(formatMetric(123456), "1.23e+5");
});

test("plain mode prints lines at most every interval, plus the first and the last", () => {
  const s = fakeStream(false);
  let t = 100;
  const p = new ProgressReporter({ total: 10, label: "train", stream: s, now: () => t, plainIntervalSeconds: 30 });
  for (let step = 1; step <= 10; step++) {
    t += 10; // 10 s per step, 31,744 env steps per step
    p.update(step, { envsteps: step * 31744, metrics: { "training/critic_loss": 1 / step, "eval/episode_success": 11.5 } });
  }
  p.finish();
  p.finish();
  // drawn at step 1 (first), 4, 7 (30 s apart) and 10 (the last)
  assert.equal(s.chunks.length, 4);
  assert.equal(s.chunks[0], "[train] step 1/10 (10%) | 3.17k env steps/s | elapsed 10s | ETA 1m30s | critic_loss 1 | episode_success 11.5\n");
  assert.match(s.chunks[1], /^\[train\] step 4\/10 \(40%\) .* ETA 1m00s \| critic_loss 0\.25 /);
  assert.match(s.chunks[2], /step 7\/10/);
  assert.match(s.chunks[3], /^\[train\] step 10\/10 \(100%\) \| 3\.17k env steps\/s \| elapsed 1m40s \| done \| critic_loss 0\.1 /);
  p.log("after finish");
  assert.equal(s.chunks.at(-1), "after finish\n");
});

test("TTY mode redraws one line in place, truncated to the terminal, and logs above it", () => {
  const s = fakeStream(true, 100);
  let t = 0;
  const p = new ProgressReporter({ total: 200, stream: s, now: () => t, startStep: 100, startEnvsteps: 1000 });
  t = 2;
  p.update(150, { envsteps: 3000 });
  assert.equal(s.chunks.length, 1);
  const first = s.chunks[0];
  assert.ok(first.startsWith("\r[###############-----] 150/200 75% | 1.00k env steps/s | ETA 2s"), first);
  assert.ok(first.endsWith("\x1b[K"));
  t = 2.05; // within the redraw throttle: nothing drawn
  p.update(151, { envsteps: 3020 });
  assert.equal(s.chunks.length, 1);
  p.log("evaluation: time at goal 286");
  assert.equal(s.chunks[1], `\r\x1b[Kevaluation: time at goal 286\n${first.slice(1, -3)}`);
  t = 3;
  s.columns = 60; // the terminal was resized
  p.update(160, { envsteps: 3200, metrics: { "training/critic_loss": 2.5, "training/actor_loss": -1.25, "training/sps": 123 } });
  const line = s.chunks[2].slice(1, -3);
  assert.equal(line.length, 59, "truncated to columns - 1");
  p.finish();
  assert.equal(s.chunks.at(-1), "\n");
  assert.throws(() => new ProgressReporter({ total: 0, stream: s }), /total must be a positive number of steps, got 0/);
});
