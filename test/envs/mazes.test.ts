import assert from "node:assert/strict";
import { test } from "node:test";
import { MAZE_NAMES, cellCentre, isWall, parseMaze, parseMazeGrid } from "../../src/envs/mazes.js";

test("all SPEC appendix A layouts parse, with one start and at least one goal", () => {
  assert.deepEqual([...MAZE_NAMES].sort(), [
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
