// @ts-check
// A point-maze episode drawn top-down on a 2-D canvas. The grid is drawn as written in
// src/envs/mazes.ts: row i downwards, column j to the right; cell (i, j) is centred at world
// x = i·s, y = j·s, so world x runs down the picture and world y to the right.

/** @typedef {import("./api.js").TrajectoryFile} TrajectoryFile */

const COLORS = {
  floor: "#fbfbf8",
  wall: "#4a4f57",
  goalCell: "#e9f5e9",
  startCell: "#e8eef8",
  grid: "#e4e4de",
  path: "#1f77b4",
  pathAhead: "rgba(31, 119, 180, 0.16)",
  goal: "#2ca02c",
  body: "#ff7f0e",
  bodyAtGoal: "#2ca02c",
};

export class MazeView {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {TrajectoryFile} file
   */
  constructor(canvas, file) {
    if (file.scene.kind !== "point") throw new Error("MazeView draws point-maze scenes");
    this.canvas = canvas;
    this.file = file;
    this.scene = file.scene;
    const ctx = canvas.getContext("2d");
    if (ctx === null) throw new Error("this browser gives no 2-D canvas");
    this.ctx = ctx;
    this.scale = 1;
    this.offX = 0;
    this.offY = 0;
    this.resize();
  }

  /** Fits the maze into the canvas's current size. */
  resize() {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.max(1, Math.round(c.clientWidth * dpr));
    c.height = Math.max(1, Math.round(c.clientHeight * dpr));
    const m = this.scene.maze;
    const s = m.cellSize;
    const pad = 8 * dpr;
    this.scale = Math.min((c.width - 2 * pad) / (m.cols * s), (c.height - 2 * pad) / (m.rows * s));
    this.offX = (c.width - m.cols * s * this.scale) / 2;
    this.offY = (c.height - m.rows * s * this.scale) / 2;
  }

  /**
   * Canvas position of world (x, y).
   * @param {number} x
   * @param {number} y
   * @returns {[number, number]}
   */
  px(x, y) {
    const s = this.scene.maze.cellSize;
    return [this.offX + (y + s / 2) * this.scale, this.offY + (x + s / 2) * this.scale];
  }

  /**
   * The achieved goal of episode e at frame t (0 = reset, t = after step t).
   * @param {number} e
   * @param {number} t
   * @returns {number[]}
   */
  position(e, t) {
    return t === 0 ? this.file.start[e] : this.file.achieved[e][t - 1];
  }

  /**
   * Draws episode e at frame t (clamped to the episode's length).
   * @param {number} e
   * @param {number} t
   */
  draw(e, t) {
    const { ctx, scene, file } = this;
    const m = scene.maze;
    const s = m.cellSize;
    const k = this.scale;
    const len = file.achieved[e].length;
    t = Math.max(0, Math.min(t, len));
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    // cells
    for (let i = 0; i < m.rows; i++) {
      for (let j = 0; j < m.cols; j++) {
        const ch = m.grid[i][j];
        ctx.fillStyle = ch === "#" ? COLORS.wall : ch === "G" ? COLORS.goalCell : ch === "R" ? COLORS.startCell : COLORS.floor;
        const [x0, y0] = this.px(i * s - s / 2, j * s - s / 2);
        ctx.fillRect(x0, y0, s * k + 0.5, s * k + 0.5);
      }
    }
    ctx.strokeStyle = COLORS.grid;
    ctx.lineWidth = 1;
    for (let i = 0; i <= m.rows; i++) {
      const [xa, ya] = this.px(i * s - s / 2, -s / 2);
      const [xb] = this.px(i * s - s / 2, m.cols * s - s / 2);
      ctx.beginPath();
      ctx.moveTo(xa, ya);
      ctx.lineTo(xb, ya);
      ctx.stroke();
    }
    for (let j = 0; j <= m.cols; j++) {
      const [xa, ya] = this.px(-s / 2, j * s - s / 2);
      const [, yb] = this.px(m.rows * s - s / 2, j * s - s / 2);
      ctx.beginPath();
      ctx.moveTo(xa, ya);
      ctx.lineTo(xa, yb);
      ctx.stroke();
    }
    // the goal: the success disc and a cross
    const goal = file.goals[e];
    const [gx, gy] = this.px(goal[0], goal[1]);
    ctx.fillStyle = "rgba(44, 160, 44, 0.25)";
    ctx.strokeStyle = COLORS.goal;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(gx, gy, file.successThreshold * k, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(gx - 0.9 * k, gy);
    ctx.lineTo(gx + 0.9 * k, gy);
    ctx.moveTo(gx, gy - 0.9 * k);
    ctx.lineTo(gx, gy + 0.9 * k);
    ctx.stroke();
    // the path: all of it faint, the part walked so far strong
    const path = [file.start[e], ...file.achieved[e]];
    /** @param {number} a @param {number} b @param {string} style @param {number} width */
    const line = (a, b, style, width) => {
      ctx.strokeStyle = style;
      ctx.lineWidth = width;
      ctx.lineJoin = "round";
      ctx.beginPath();
      for (let q = a; q <= b; q++) {
        const [x, y] = this.px(path[q][0], path[q][1]);
        if (q === a) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      }
      ctx.stroke();
    };
    line(0, len, COLORS.pathAhead, 1.5);
    if (t > 0) line(0, t, COLORS.path, 2.5);
    // the start
    const [sx, sy] = this.px(file.start[e][0], file.start[e][1]);
    ctx.fillStyle = COLORS.path;
    ctx.beginPath();
    ctx.arc(sx, sy, 0.25 * k, 0, 2 * Math.PI);
    ctx.fill();
    // the body: a square of the point mass's size
    const p = this.position(e, t);
    const atGoal = t > 0 ? file.success[e][t - 1] === 1 : Math.hypot(p[0] - goal[0], p[1] - goal[1]) < file.successThreshold;
    const h = scene.bodyHalfSize;
    const [bx, by] = this.px(p[0] - h, p[1] - h);
    ctx.fillStyle = atGoal ? COLORS.bodyAtGoal : COLORS.body;
    ctx.strokeStyle = "#333";
    ctx.lineWidth = 1.5;
    ctx.fillRect(bx, by, 2 * h * k, 2 * h * k);
    ctx.strokeRect(bx, by, 2 * h * k, 2 * h * k);
  }

  dispose() {}
}
