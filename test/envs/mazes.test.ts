import assert from "node:assert/strict";
import { test } from "node:test";
import { MAZE_NAMES, cellCentre, isWall, parseMaze, parseMazeGrid } from "../../src/envs/mazes.js";

test("all SPEC appendix A layouts parse, with one start and at least one goal", () => {
  assert.deepEqual([...MAZE_NAMES].sort(), [
    "ant_big_maze_eval",
    "big_maze",
    "big_maze_eval",
    "hardest_maze",
    "u4_maze",
    "u4_maze_eval",
    "u5_maze",
    "u5_maze_eval",
    "u_maze",
    "u_maze_eval",
  ]);
  for (const name of MAZE_NAMES) {
    const m = parseMaze(name);
    assert.equal(m.walls.length + m.free.length, m.rows * m.cols, name);
    assert.ok(m.goals.length > 0, name);
  }
});

test("u_maze: sizes, start, goals and centres", () => {
  const m = parseMaze("u_maze");
  assert.equal(m.rows, 5);
  assert.equal(m.cols, 5);
  assert.deepEqual(m.start, [1, 1]);
  assert.deepEqual(m.goals, [
    [1, 2],
    [1, 3],
    [2, 3],
    [3, 1],
    [3, 2],
    [3, 3],
  ]);
  assert.deepEqual(cellCentre(m.start, 4), [4, 4]);
  assert.ok(isWall(m, 2, 1));
  assert.ok(!isWall(m, 2, 3));
  assert.ok(isWall(m, -1, 0));
  const e = parseMaze("u_maze_eval");
  assert.deepEqual(e.goals, [
    [3, 1],
    [3, 2],
    [3, 3],
  ]);
  assert.equal(e.free.length, m.free.length);
});

test("eval layouts have the same walls and start as their training layouts, and fewer goals", () => {
  for (const base of ["u_maze", "u4_maze", "u5_maze", "big_maze"]) {
    const a = parseMaze(base);
    const b = parseMaze(`${base}_eval`);
    assert.deepEqual(b.walls, a.walls, base);
    assert.deepEqual(b.start, a.start, base);
    assert.ok(b.goals.length < a.goals.length, base);
  }
  assert.equal(parseMaze("hardest_maze").goals.length, 45);
});

test("bad names and grids give errors that say what is allowed", () => {
  assert.throws(() => parseMaze("nope"), /unknown maze "nope": known mazes are u_maze, .*hardest_maze/);
  assert.throws(() => parseMazeGrid("x", ["###", "#R#", "#X#", "###"]), /allowed are/);
  assert.throws(() => parseMazeGrid("x", ["###", "#R#", "###"]), /no goal cell/);
  assert.throws(() => parseMazeGrid("x", ["####", "#RG", "####"]), /equally long/);
});

test("big-maze far goals: 10 cells for the point and Humanoid mazes, the Ant's 9 without (2, 5), as the references", () => {
  // simple_maze.py and humanoid_maze.py (scaling-crl and JaxGCRL): BIG_MAZE_EVAL row 2 is
  // [1, 0, 0, 1, 0, G, G, 1]; scaling-crl's ant_maze.py has [1, 0, 0, 1, 0, 0, G, 1].
  const far = [
    [1, 5],
    [1, 6],
    [2, 5],
    [2, 6],
    [5, 3],
    [5, 6],
    [6, 2],
    [6, 3],
    [6, 5],
    [6, 6],
  ];
  assert.deepEqual(parseMaze("big_maze_eval").goals, far);
  assert.deepEqual(
    parseMaze("ant_big_maze_eval").goals,
    far.filter(([i, j]) => !(i === 2 && j === 5)),
  );
  // The far goals are goal cells of the training layout.
  const train = new Set(parseMaze("big_maze").goals.map((c) => c.join(",")));
  for (const c of far) assert.ok(train.has(c.join(",")), `far goal ${c} is a training goal cell`);
});
