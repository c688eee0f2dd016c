// Maze layouts (SPEC appendix A), written as string grids so a reader can see the maze.
//   '#' wall cell, 'R' start cell, 'G' goal cell, '.' free cell (walkable, never a goal).
// Cell (i, j) = row i, column j; its centre is at x = i·s, y = j·s for cell size s (Ant 4,
// Humanoid 2, point mazes 4). A wall cell is a box of half-size (s/2, s/2) around its centre.
// Training goals are drawn uniformly from the 'G' cells; the `_eval` variants keep only the far
// goals and are what evaluation uses where one exists.
//
// This file is shared by the point mazes (src/envs/point) and the MuJoCo mazes (src/envs/mujoco):
// keep its API stable.

export type Cell = readonly [number, number];

export interface MazeLayout {
  readonly name: string;
  /** Number of rows (cells along x). */
  readonly rows: number;
  /** Number of columns (cells along y). */
  readonly cols: number;
  /** The grid as written, one string per row. */
  readonly grid: readonly string[];
  /** Wall cells [i, j], in row-major order. */
  readonly walls: readonly Cell[];
  /** The 'R' cell. */
  readonly start: Cell;
  /** The 'G' cells, in row-major order. */
  readonly goals: readonly Cell[];
  /** Every non-wall cell ('R', 'G', '.'), in row-major order. */
  readonly free: readonly Cell[];
}

const GRIDS: Readonly<Record<string, readonly string[]>> = {
  u_maze: [
    "#####", //
    "#RGG#",
    "###G#",
    "#GGG#",
    "#####",
  ],
  u_maze_eval: [
    "#####", //
    "#R..#",
    "###.#",
    "#GGG#",
    "#####",
  ],
  u4_maze: [
    "#####", //
    "#GGG#",
    "#R#G#",
    "###G#",
    "#G#G#",
    "#GGG#",
    "#####",
  ],
  u4_maze_eval: [
    "#####", //
    "#...#",
    "#R#.#",
    "###.#",
    "#G#.#",
    "#GGG#",
    "#####",
  ],
  u5_maze: [
    "########", //
    "#GGGGGG#",
    "#R####G#",
    "######G#",
    "#G####G#",
    "#GGGGGG#",
    "########",
  ],
  u5_maze_eval: [
    "########", //
    "#......#",
    "#R####.#",
    "######.#",
    "#G####G#",
    "#GGGGGG#",
    "########",
  ],
  big_maze: [
    "########", //
    "#RG##GG#",
    "#GG#GGG#",
    "##GGG###",
    "#GG#GGG#",
    "#G#GG#G#",
    "#GGG#GG#",
    "########",
  ],
  // The far goals of the point and Humanoid big mazes: simple_maze.py and humanoid_maze.py of both
  // references (scaling-crl, JaxGCRL) have 10 far cells, (2, 5) included.
  big_maze_eval: [
    "########", //
    "#R.##GG#",
    "#..#.GG#",
    "##...###",
    "#..#...#",
    "#.#G.#G#",
    "#.GG#GG#",
    "########",
  ],
  // The Ant's: scaling-crl's ant_maze.py (the paper's code, its job.slurm's `ant_big_maze_eval`)
  // leaves (2, 5) out; JaxGCRL's ant_maze.py has it.
  ant_big_maze_eval: [
    "########", //
    "#R.##GG#",
    "#..#..G#",
    "##...###",
    "#..#...#",
    "#.#G.#G#",
    "#.GG#GG#",
    "########",
  ],
  hardest_maze: [
    "############", //
    "#RGGG#GGGGG#",
    "#G##G#G#G#G#",
    "#GGGGGG#GGG#",
    "#G####G###G#",
    "#GG#G#GGGGG#",
    "##G#G#G#G###",
    "#GG#GGG#GGG#",
    "############",
  ],
};

/** Names of the built-in layouts. */
export const MAZE_NAMES: readonly string[] = Object.keys(GRIDS);

/** The built-in layout `name` as its string grid. */
export function mazeGrid(name: string): readonly string[] {
  const grid = GRIDS[name];
  if (grid === undefined) {
    throw new Error(`unknown maze "${name}": known mazes are ${MAZE_NAMES.join(", ")}`);
  }
  return grid;
}

/** Parses a string grid (see the legend at the top of this file). */
export function parseMazeGrid(name: string, grid: readonly string[]): MazeLayout {
  const rows = grid.length;
  if (rows === 0) throw new Error(`maze "${name}": the grid has no rows`);
  const cols = grid[0].length;
  const walls: Cell[] = [];
  const goals: Cell[] = [];
  const free: Cell[] = [];
  let start: Cell | undefined;
  for (let i = 0; i < rows; i++) {
    const row = grid[i];
    if (row.length !== cols) {
      throw new Error(`maze "${name}": row ${i} has ${row.length} cells, row 0 has ${cols}; all rows must be equally long`);
    }
    for (let j = 0; j < cols; j++) {
      const c = row[j];
      const onBorder = i === 0 || j === 0 || i === rows - 1 || j === cols - 1;
      if (c !== "#" && onBorder) {
        throw new Error(`maze "${name}": cell (${i}, ${j}) on the border is '${c}'; the border must be walls '#'`);
      }
      if (c === "#") walls.push([i, j]);
      else if (c === "R" || c === "G" || c === ".") {
        free.push([i, j]);
        if (c === "G") goals.push([i, j]);
        if (c === "R") {
          if (start !== undefined) throw new Error(`maze "${name}": more than one start cell 'R'`);
          start = [i, j];
        }
      } else {
        throw new Error(`maze "${name}": cell (${i}, ${j}) is '${c}'; allowed are '#' wall, 'R' start, 'G' goal, '.' free`);
      }
    }
  }
  if (start === undefined) throw new Error(`maze "${name}": no start cell 'R'`);
  if (goals.length === 0) throw new Error(`maze "${name}": no goal cell 'G'`);
  return { name, rows, cols, grid, walls, start, goals, free };
}

/** Parses the built-in layout `name` (u_maze, u4_maze_eval, hardest_maze, ...). */
export function parseMaze(name: string): MazeLayout {
  return parseMazeGrid(name, mazeGrid(name));
}

/** Centre of cell (i, j) in world coordinates for cell size s: x = i·s, y = j·s. */
export function cellCentre(cell: Cell, cellSize: number): [number, number] {
  return [cell[0] * cellSize, cell[1] * cellSize];
}

/** World positions of a layout's cells at cell size s: the start cell's centre and the goal cells' centres. */
export interface MazeCentres {
  readonly startX: number;
  readonly startY: number;
  /** [nGoals, 2] centres of the 'G' cells, in layout order. */
  readonly goals: Float64Array;
}

/** The start and goal cell centres of `layout` at cell size s; no layout (open ground): origin, no goals. */
export function mazeCentres(layout: MazeLayout | null, cellSize: number): MazeCentres {
  if (layout === null) return { startX: 0, startY: 0, goals: new Float64Array(0) };
  const [startX, startY] = cellCentre(layout.start, cellSize);
  const goals = new Float64Array(layout.goals.length * 2);
  for (let g = 0; g < layout.goals.length; g++) {
    const [x, y] = cellCentre(layout.goals[g], cellSize);
    goals[2 * g] = x;
    goals[2 * g + 1] = y;
  }
  return { startX, startY, goals };
}

/**
 * The corridor that starts at the 'R' cell: each next cell is the one free neighbour other than the
 * cell just left, until a dead end (scaling-crl envs/ant_maze_generalization.py walks the U-mazes
 * this way from R to their end). Throws where the free cells branch: only corridor mazes (the U
 * mazes) have one.
 */
export function corridorPath(layout: MazeLayout): Cell[] {
  const path: Cell[] = [layout.start];
  let prev: Cell | null = null;
  for (;;) {
    const [i, j] = path[path.length - 1];
    const next: Cell[] = [];
    for (const [di, dj] of [
      [0, 1],
      [1, 0],
      [0, -1],
      [-1, 0],
    ]) {
      const c: Cell = [i + di, j + dj];
      if (isWall(layout, c[0], c[1]) || (prev !== null && c[0] === prev[0] && c[1] === prev[1])) continue;
      next.push(c);
    }
    if (next.length === 0) return path;
    if (next.length > 1) throw new Error(`maze "${layout.name}" branches at cell (${i}, ${j}): it has no single corridor from its start`);
    prev = path[path.length - 1];
    path.push(next[0]);
  }
}

/**
 * Start and goal cells of a stitching episode (SPEC §7): a distance d drawn uniformly from
 * `distances` (cells along the corridor), then a start uniformly among the cells with a cell d
 * further along; the goal is that cell. This is the reference's law (each distance equally likely,
 * pairs of one distance equally likely; start before goal along the corridor).
 */
export function stitchPair(path: readonly Cell[], distances: readonly number[], draw: { int(n: number): number }): [Cell, Cell] {
  const d = distances[draw.int(distances.length)];
  if (!Number.isInteger(d) || d < 1 || d >= path.length) throw new Error(`stitching distance ${d} does not fit a corridor of ${path.length} cells`);
  const k = draw.int(path.length - d);
  return [path[k], path[k + d]];
}

/** True where cell (i, j) is a wall ('#'); cells outside the grid count as walls. */
export function isWall(layout: MazeLayout, i: number, j: number): boolean {
  if (i < 0 || j < 0 || i >= layout.rows || j >= layout.cols) return true;
  return layout.grid[i][j] === "#";
}
