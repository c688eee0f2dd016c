// @ts-check
// A MuJoCo episode in 3-D with three.js, drawn from the model's own geoms (the trajectory file's
// scene: planes, spheres, capsules, ellipsoids, cylinders, boxes, maze walls) placed at the
// recorded world pose of their body in each frame. The goal is a green disc (2-D goals) or a
// translucent sphere (3-D goals) of the success radius; the walked path is a line. The camera
// orbits freely (drag, wheel) in every mode: "follow" keeps its offset to the agent as it moves,
// "overview" frames the whole maze (or the start, the goal and the path), "free" stays put.
// MuJoCo's world is z-up, and so is this camera; it looks from +x, so that a maze appears as the
// top-down point-maze view draws it (rows downwards, columns to the right).
import * as THREE from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";

/** @typedef {import("./api.js").TrajectoryFile} TrajectoryFile */
/** @typedef {import("../trajectories.js").MujocoGeom} MujocoGeom */
/** @typedef {"follow" | "overview" | "free"} CameraMode */

/** The camera's direction from what it looks at: from +x, 65° above the floor (over maze walls). */
const VIEW_DIR = new THREE.Vector3(0.423, 0, 0.906);

/**
 * A three.js mesh geometry for a MuJoCo geom (capsules and cylinders along local z, as MuJoCo's).
 * @param {MujocoGeom} g
 * @returns {THREE.BufferGeometry}
 */
function geometryOf(g) {
  const [a, b, c] = g.size;
  switch (g.type) {
    case "sphere":
      return new THREE.SphereGeometry(a, 24, 16);
    case "ellipsoid":
      return new THREE.SphereGeometry(1, 24, 16).scale(a, b, c);
    case "capsule":
      return new THREE.CapsuleGeometry(a, 2 * b, 6, 16).rotateX(Math.PI / 2);
    case "cylinder":
      return new THREE.CylinderGeometry(a, a, 2 * b, 20).rotateX(Math.PI / 2);
    case "box":
      return new THREE.BoxGeometry(2 * a, 2 * b, 2 * c);
    case "plane":
      // MuJoCo's plane of size 0 is infinite: draw 100 m of it
      return new THREE.PlaneGeometry(a > 0 ? 2 * a : 100, b > 0 ? 2 * b : 100);
    default:
      throw new Error(`geom ${g.name}: the viewer cannot draw a ${g.type}`);
  }
}

/**
 * A floor texture of 1 m squares in two shades of `color`, so that motion reads against it.
 * @param {THREE.Color} color
 * @param {number} width metres
 * @param {number} height metres
 */
function checker(color, width, height) {
  const c = document.createElement("canvas");
  c.width = 2;
  c.height = 2;
  const ctx = /** @type {CanvasRenderingContext2D} */ (c.getContext("2d"));
  const light = color.clone().multiplyScalar(1.0);
  const dark = color.clone().multiplyScalar(0.88);
  ctx.fillStyle = `#${light.getHexString()}`;
  ctx.fillRect(0, 0, 2, 2);
  ctx.fillStyle = `#${dark.getHexString()}`;
  ctx.fillRect(0, 0, 1, 1);
  ctx.fillRect(1, 1, 1, 1);
  const tex = new THREE.CanvasTexture(c);
  tex.wrapS = THREE.RepeatWrapping;
  tex.wrapT = THREE.RepeatWrapping;
  tex.magFilter = THREE.NearestFilter;
  tex.colorSpace = THREE.SRGBColorSpace;
  tex.repeat.set(width / 2, height / 2);
  return tex;
}

export class MujocoView {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {TrajectoryFile} file
   */
  constructor(canvas, file) {
    if (file.scene.kind !== "mujoco" || !file.bodies) throw new Error("MujocoView draws MuJoCo scenes with recorded body poses");
    this.canvas = canvas;
    this.file = file;
    this.sceneInfo = file.scene;
    /** @type {CameraMode} */
    this.cameraMode = "follow";
    /** the frame drawn last */
    this.t = 0;
    this.episode = -1;
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color("#dde6ee");
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x5a5a5a, 1.6));
    const sun = new THREE.DirectionalLight(0xffffff, 1.6);
    sun.position.set(4, -6, 10);
    this.scene.add(sun);
    this.camera = new THREE.PerspectiveCamera(45, 1, 0.02, 500);
    this.camera.up.set(0, 0, 1);
    /** @type {THREE.Group[]} one group per body (index = body), posed each frame; 0 = the world */
    this.bodies = file.scene.bodies.map(() => new THREE.Group());
    for (const g of this.bodies) this.scene.add(g);
    this.buildGeoms();
    // the goal marker and the path, rebuilt per episode
    this.goal = new THREE.Group();
    this.scene.add(this.goal);
    this.trail = new THREE.Line(new THREE.BufferGeometry(), new THREE.LineBasicMaterial({ color: 0x1f77b4 }));
    this.trail.frustumCulled = false;
    this.scene.add(this.trail);
    this.controls = new OrbitControls(this.camera, canvas);
    /** set while draw() moves the camera, which renders once itself */
    this.drawing = false;
    this.controls.addEventListener("change", () => {
      if (!this.drawing) this.render();
    });
    this.target = new THREE.Vector3();
    this.resize();
  }

  buildGeoms() {
    for (const g of this.sceneInfo.geoms) {
      const [r, gr, b, a] = g.rgba;
      const color = new THREE.Color().setRGB(r, gr, b, THREE.SRGBColorSpace); // MuJoCo's rgba are display colours
      const material =
        g.type === "plane"
          ? new THREE.MeshStandardMaterial({ map: checker(color, g.size[0] > 0 ? 2 * g.size[0] : 100, g.size[1] > 0 ? 2 * g.size[1] : 100), roughness: 1 })
          : new THREE.MeshStandardMaterial({ color, roughness: 0.7, metalness: 0.05, transparent: a < 1, opacity: a });
      const mesh = new THREE.Mesh(geometryOf(g), material);
      mesh.position.set(g.pos[0], g.pos[1], g.pos[2]);
      mesh.quaternion.set(g.quat[1], g.quat[2], g.quat[3], g.quat[0]);
      this.bodies[g.body].add(mesh);
    }
  }

  /** Distance of the follow camera from the agent: from the maze's cells, else the model's size at rest. */
  viewDistance() {
    const m = this.sceneInfo.maze;
    if (m) return 1.7 * m.cellSize;
    const pose = /** @type {number[][][]} */ (this.file.bodies)[0][0];
    const centre = this.file.start[0];
    let r = 0.2;
    for (let o = 0; o < pose.length; o += 7) r = Math.max(r, Math.hypot(pose[o] - centre[0], pose[o + 1] - centre[1]));
    return Math.max(1.2, 4 * r);
  }

  /**
   * Where the camera looks in frame t of episode e: the achieved goal (2-D goals: at the root body's height).
   * @param {number} e
   * @param {number} t
   */
  focus(e, t) {
    const f = this.file;
    const p = t === 0 ? f.start[e] : f.achieved[e][t - 1];
    const root = /** @type {number[][][]} */ (f.bodies)[e][t];
    return new THREE.Vector3(p[0], p[1], p.length > 2 ? p[2] : root[2]);
  }

  /** @param {number} e */
  setEpisode(e) {
    const f = this.file;
    this.episode = e;
    // the goal
    for (const c of [...this.goal.children]) this.goal.remove(c);
    const g = f.goals[e];
    const green = 0x2ca02c;
    if (g.length === 2) {
      const disc = new THREE.Mesh(
        new THREE.CircleGeometry(f.successThreshold, 40),
        new THREE.MeshBasicMaterial({ color: green, transparent: true, opacity: 0.45, depthWrite: false }),
      );
      disc.position.set(g[0], g[1], 0.01);
      const pole = new THREE.Mesh(new THREE.CylinderGeometry(0.03, 0.03, 1.5, 8).rotateX(Math.PI / 2), new THREE.MeshStandardMaterial({ color: green }));
      pole.position.set(g[0], g[1], 0.75);
      this.goal.add(disc, pole);
    } else {
      const ball = new THREE.Mesh(
        new THREE.SphereGeometry(f.successThreshold, 24, 16),
        new THREE.MeshStandardMaterial({ color: green, transparent: true, opacity: 0.35, depthWrite: false }),
      );
      ball.position.set(g[0], g[1], g[2]);
      this.goal.add(ball);
    }
    // the path of the achieved goal (2-D goals: just above the floor)
    const pts = [f.start[e], ...f.achieved[e]];
    const xyz = new Float32Array(pts.length * 3);
    pts.forEach((p, i) => {
      xyz.set([p[0], p[1], p.length > 2 ? p[2] : 0.03], 3 * i);
    });
    this.trail.geometry.dispose();
    this.trail.geometry = new THREE.BufferGeometry();
    this.trail.geometry.setAttribute("position", new THREE.BufferAttribute(xyz, 3));
    this.placeCamera(e, 0);
  }

  /**
   * Puts the camera where its mode wants it for frame t of episode e ("free": where it is).
   * @param {number} e
   * @param {number} t
   */
  placeCamera(e, t) {
    if (this.cameraMode === "free") return;
    let target;
    let d;
    if (this.cameraMode === "follow") {
      target = this.focus(e, t);
      d = this.viewDistance();
    } else {
      // the maze, or the box around the start, the goal and the path, seen whole
      const f = this.file;
      const m = this.sceneInfo.maze;
      let box;
      if (m) box = [-m.cellSize / 2, -m.cellSize / 2, (m.rows - 0.5) * m.cellSize, (m.cols - 0.5) * m.cellSize];
      else {
        const pts = [f.start[e], f.goals[e], ...f.achieved[e]];
        box = [Math.min(...pts.map((p) => p[0])) - 1, Math.min(...pts.map((p) => p[1])) - 1, Math.max(...pts.map((p) => p[0])) + 1, Math.max(...pts.map((p) => p[1])) + 1];
      }
      target = new THREE.Vector3((box[0] + box[2]) / 2, (box[1] + box[3]) / 2, 0);
      const half = Math.max((box[2] - box[0]) / 2, (box[3] - box[1]) / 2 / Math.max(this.camera.aspect, 0.2));
      d = (1.15 * half) / Math.tan((this.camera.fov * Math.PI) / 360);
    }
    this.camera.position.copy(target).addScaledVector(VIEW_DIR, d);
    this.controls.target.copy(target);
    this.drawing = true;
    this.controls.update();
    this.drawing = false;
  }

  /**
   * @param {CameraMode} mode
   */
  setCamera(mode) {
    this.cameraMode = mode;
    if (this.episode >= 0) this.placeCamera(this.episode, this.t ?? 0);
  }

  resize() {
    const c = this.canvas;
    const w = Math.max(1, c.clientWidth);
    const h = Math.max(1, c.clientHeight);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    if (this.cameraMode === "overview" && this.episode >= 0) this.placeCamera(this.episode, this.t);
  }

  /**
   * Poses every body for frame t of episode e (clamped to the episode) and renders.
   * @param {number} e
   * @param {number} t
   */
  draw(e, t) {
    if (e !== this.episode) this.setEpisode(e);
    const f = this.file;
    const frames = /** @type {number[][][]} */ (f.bodies)[e];
    t = Math.max(0, Math.min(t, frames.length - 1));
    const pose = frames[t];
    for (let b = 1; b < this.bodies.length; b++) {
      const o = 7 * (b - 1);
      this.bodies[b].position.set(pose[o], pose[o + 1], pose[o + 2]);
      this.bodies[b].quaternion.set(pose[o + 4], pose[o + 5], pose[o + 6], pose[o + 3]);
    }
    this.trail.geometry.setDrawRange(0, t + 1);
    this.t = t;
    if (this.cameraMode === "follow") {
      const focus = this.focus(e, t);
      const delta = focus.clone().sub(this.controls.target);
      this.camera.position.add(delta);
      this.controls.target.copy(focus);
      this.drawing = true;
      this.controls.update();
      this.drawing = false;
    }
    this.render();
  }

  render() {
    this.renderer.render(this.scene, this.camera);
  }

  dispose() {
    this.controls.dispose();
    this.renderer.dispose();
  }
}
