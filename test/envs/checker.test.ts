// Runs the env checker (./checker.ts) over every registered env id.
import assert from "node:assert/strict";
import { test } from "node:test";
import { corridorPath, MAZE_NAMES, parseMaze } from "../../src/envs/mazes.js";
import { ANT_STITCH } from "../../src/envs/mujoco/ant.js";
import { ARM_CUBE_DROP_Z, ARM_TASKS } from "../../src/envs/mujoco/arm.js";
import { pointStitchDistances } from "../../src/envs/point/point.js";
import { listEnvs } from "../../src/envs/registry.js";
import { type CheckOptions, checkEnv, checkHistoryIndependence } from "./checker.js";

/**
 * Where the achieved goal starts, for the families whose start we know: the maze's 'R' cell centre
 * at cell size 4 (point and Ant mazes; the origin for ant-v1), ± reset noise 0.1; for the Humanoid
 * (achieved goal: chest x, y, z) the 'R' cell centre at cell size 2 (the origin for humanoid-v1)
 * and the standing chest height 1.4, ± reset noise 0.01; for the arm tasks (achieved goal: the cube)
 * the task's cube start centre at the drop height, ± its cube noise.
 */
function expectedStart(id: string): CheckOptions["start"] {
  if (id === "ant-v1") return { goal: [0, 0], tol: 0.1 + 1e-6 };
  if (id === "humanoid-v1") return { goal: [0, 0, 1.4], tol: 0.01 + 1e-6 };
  if (id.startsWith("humanoid_")) {
    const r = parseMaze(id.replace(/^humanoid_/, "").replace(/-v\d+$/, "")).start;
    return { goal: [2 * r[0], 2 * r[1], 1.4], tol: 0.01 + 1e-6 };
  }
  // Stitching ids (point and Ant U maze): a corridor cell with a cell the task's shortest distance
  // further along, ± reset noise 0.1.
  const stitch = pointStitchDistances(id) ?? ANT_STITCH[id];
  if (stitch !== undefined && stitch !== null) {
    const path = corridorPath(parseMaze("u_maze"));
    return { anyOf: path.slice(0, path.length - Math.min(...stitch)).map(([i, j]) => [4 * i, 4 * j]), tol: 0.1 + 1e-6 };
  }
  const arm = ARM_TASKS[id];
  if (arm !== undefined) return { goal: [arm.cube[0], arm.cube[1], ARM_CUBE_DROP_Z], tol: arm.cubeNoise + 1e-6 };
  // Every other id must be a point or Ant maze whose layout exists: a new family (or a renamed
  // layout) has to say here where its achieved goal starts, not skip the check silently.
  const maze = id.replace(/^(simple|ant)_/, "").replace(/-v\d+$/, "");
  if (!/^(simple|ant)_/.test(id) || !MAZE_NAMES.includes(maze)) {
    throw new Error(`checker.test.ts does not know where ${id}'s achieved goal starts: add its family to expectedStart()`);
  }
  const r = parseMaze(maze).start;
  return { goal: [4 * r[0], 4 * r[1]], tol: 0.1 + 1e-6 };
}

test("an env family the checker does not know fails the start check", () => {
  assert.throws(() => expectedStart("walker_maze-v1"), /does not know where walker_maze-v1's achieved goal starts/);
  assert.throws(() => expectedStart("simple_spiral_maze-v1"), /does not know where simple_spiral_maze-v1/);
});

test("the registry has the point mazes, the Ant, the Humanoid and the arm tasks", () => {
  const ids = listEnvs();
  for (const id of ["simple_u_maze-v1", "simple_big_maze-v1", "simple_hardest_maze-v1", "ant-v1", "ant_u4_maze-v1", "ant_u5_maze-v1", "ant_big_maze-v1", "ant_hardest_maze-v1", "humanoid-v1", "humanoid_u_maze-v1", "humanoid_u_maze_eval-v1", "humanoid_big_maze-v1", "humanoid_big_maze_eval-v1", "arm_push_easy-v1", "arm_push_hard-v1", "arm_binpick_hard-v1"]) {
    assert.ok(ids.includes(id), `${id} is not registered`);
  }
});

for (const id of listEnvs()) {
  // MuJoCo envs are ~1000× slower to step and far slower to build than the point mazes: fewer envs and steps.
  const mujoco = !id.startsWith("simple_");
  const options: CheckOptions = mujoco ? { numEnvs: 3, steps: 14, episodeLength: 4 } : { numEnvs: 5, steps: 40, episodeLength: 7 };
  test(`env checker: ${id}`, async () => {
    options.start = expectedStart(id);
    const rep = await checkEnv(id, options);
    assert.ok(rep.resets >= 3 * (options.numEnvs ?? 5), `${id}: only ${rep.resets} resets`);
  });
}

// One id per family: a core's episodes do not depend on what the instance simulated before.
for (const id of ["simple_big_maze-v1", "ant_u5_maze-v1", "humanoid_u_maze-v1", "arm_binpick_hard-v1"]) {
  test(`history independence: ${id}`, async () => {
    await checkHistoryIndependence(id);
  });
}
