// What the MuJoCo family tests (ant, humanoid, arm) share: a spec by id, a core built through the
// family's factory, the random stream a core draws an env's episode from (as SliceRunner does),
// and the check of a maze task's starts and goals.
import assert from "node:assert/strict";
import type { EnvCore } from "../../src/envs/core.js";
import { cellCentre, parseMaze } from "../../src/envs/mazes.js";
import { episodeKey } from "../../src/envs/slice.js";
import type { EnvSpec } from "../../src/envs/types.js";
import { keyFromSeed, Rng } from "../../src/random.js";

/** The spec of `id` in a family's list (a failed assertion when there is none). */
export function specIn(specs: readonly EnvSpec[], id: string): EnvSpec {
  const s = specs.find((x) => x.id === id);
  assert.ok(s, `no spec ${id}`);
  return s;
}

/** `count` envs of `spec` built by the family's factory, checked to be of the family's core class. */
export async function familyCore<C extends EnvCore>(
  create: (spec: EnvSpec, count: number) => Promise<EnvCore>,
  Core: abstract new (...args: never[]) => C,
  spec: EnvSpec,
  count: number,
): Promise<C> {
  const core = await create(spec, count);
  assert.ok(core instanceof Core);
  return core;
}

/** The rng of env `env`'s episode `episode` after reset(seed). */
export function episodeRng(seed: number, env: number, episode = 0): Rng {
  return new Rng(episodeKey(keyFromSeed(seed), env, episode));
}

/**
 * A maze task's resets (60 of env 0 from one rng): each starts within `tolerance` of the layout's
 * 'R' cell centre (x, y = obs[0], obs[1]) and commands a goal among its 'G' cell centres
 * (`goalOf(obs)`, written as `goalOfCell` writes a cell's), several distinct ones among them.
 */
export function checkMazeResets(
  core: EnvCore,
  id: string,
  layoutName: string,
  o: { obsDim: number; cellSize: number; tolerance: number; goalOf: (obs: Float32Array) => number[]; goalOfCell?: (xy: [number, number]) => number[] },
): void {
  const layout = parseMaze(layoutName);
  const [sx, sy] = cellCentre(layout.start, o.cellSize);
  const goalOfCell = o.goalOfCell ?? ((xy) => xy);
  const goals = new Set(layout.goals.map((c) => goalOfCell(cellCentre(c, o.cellSize)).join(",")));
  const obs = new Float32Array(o.obsDim);
  const rng = episodeRng(8, 0);
  const seen = new Set<string>();
  for (let e = 0; e < 60; e++) {
    core.reset(0, rng, obs);
    assert.ok(Math.abs(obs[0] - sx) <= o.tolerance && Math.abs(obs[1] - sy) <= o.tolerance, `${id}: start (${obs[0]}, ${obs[1]}) vs R (${sx}, ${sy})`);
    const g = o.goalOf(obs).join(",");
    assert.ok(goals.has(g), `${id}: goal (${g}) is not a 'G' cell centre of ${layoutName}`);
    seen.add(g);
  }
  assert.ok(seen.size >= Math.min(goals.size, 3), `${id}: only ${seen.size} distinct goals in 60 resets`);
}
