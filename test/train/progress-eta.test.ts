// Progress of `fathom train` (issue 10): the ETA counts the evaluations still to come, piped
// output says what is counted, the count never passes the total, and a resumed run's rate is
// measured from where it resumed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ProgressReporter } from "../../src/train/progress.js";

function plain() {
  const chunks: string[] = [];
  return { chunks, isTTY: false, write: (c: string) => chunks.push(c) };
}

test("piped lines count env steps, and the count stops at the total", () => {
  const s = plain();
  let t = 0;
  const p = new ProgressReporter({ total: 1000, label: "maze", stream: s, now: () => t, unit: "env steps", plainIntervalSeconds: 0 });
  t = 1;
  p.update(496, { envsteps: 496 });
  t = 2;
  p.update(1040, { envsteps: 1040 }); // the last training step overshoots the budget
  assert.match(s.chunks[0], /^\[maze\] env steps 496\/1000 \(50%\) \| 496 env steps\/s/);
  assert.match(s.chunks[1], /^\[maze\] env steps 1000\/1000 \(100%\) .*\| done/);
  assert.doesNotMatch(s.chunks.join(""), /1040/);
});

test("the ETA includes the evaluations still to come, once one has been timed", () => {
  const s = plain();
  let t = 0;
  const p = new ProgressReporter({ total: 1000, stream: s, now: () => t, unit: "env steps", evaluations: 10, plainIntervalSeconds: 0 });
  t = 10;
  p.update(50, {}); // 10 s for 50 steps: 190 s of training left
  assert.match(s.chunks.at(-1) ?? "", /ETA 3m10s \+ evaluations/);
  t = 20;
  p.update(100, {});
  t = 50; // a 30 s evaluation after the step that reached 100 (of 10 evaluations, 1 done)
  p.evaluated(30);
  t = 60;
  p.update(150, {});
  // training: 150 steps in 60 − 30 = 30 s → 850 steps left = 170 s; 9 evaluations × 30 s = 270 s
  assert.match(s.chunks.at(-1) ?? "", /ETA 7m20s\n$/);
  assert.match(s.chunks.at(-1) ?? "", /elapsed 1m00s/);
});

test("after a resume the rate is measured from the first update, not from the restored count", () => {
  const s = plain();
  let t = 100;
  const p = new ProgressReporter({ total: 10_000, stream: s, now: () => t, unit: "env steps", rateFrom: "first-update", plainIntervalSeconds: 0 });
  t = 105; // resumed at 6,000 env steps: the first update reports 6,100
  p.update(6100, { envsteps: 6100 });
  assert.doesNotMatch(s.chunks[0], /env steps\/s/, "no rate from one point");
  assert.match(s.chunks[0], /ETA \?/);
  t = 115;
  p.update(6200, { envsteps: 6200 }); // 100 steps in 10 s
  assert.match(s.chunks[1], /env steps 6200\/10000 \(62%\) \| 10\.0 env steps\/s \| elapsed 15s \| ETA 6m20s/);
});
