// One CRL update (SPEC §3; agents/crl.ts CRLAgent.update, step for step) resident on a WebGPU
// device: the three networks (nn/resnet-webgpu.ts), their Adam states, log α, the tanh-Gaussian
// sample, the energies, the contrastive loss and every gradient stay on the device. Per update
// the host uploads one buffer (the batch, the standard normals ε and the per-step Adam scalars),
// runs one recorded program (one submission) and reads back the metrics (21 floats). As in
// CRLAgent, every gradient (actor, α, both encoders) is computed before any Adam step runs, and
// one device-side flag (all losses and gradient norms finite) gates all four steps: a non-finite
// loss or gradient anywhere leaves every parameter, Adam state and α as they were (no readback
// in between), and the host then throws the NonFiniteError CRLAgent throws. Browser-clean (no Node imports): give it a WebGpuContext from navigator.gpu
// or from engine/webgpu/node.ts.
import type { GpuBuf, GpuView, KernelDef, LimitCheck, Program, WebGpuContext } from "../engine/webgpu/context.js";
import { gview, sub } from "../engine/webgpu/context.js";
import { SUMSQ_PARTIALS, WebGpuKernels } from "../engine/webgpu/kernels.js";
import { ADAM_DEFAULTS } from "../nn/adam.js";
import { checkResNetFits, GpuResNet } from "../nn/resnet-webgpu.js";
import type { Tensor } from "../nn/safetensors.js";
import { Rng } from "../random.js";
import { actChunkRows, gaussianActorHeads } from "./agent.js";
import { CRL_METRIC_NAMES, type CRLConfig, type CRLDims, type CRLMetrics, NonFiniteError, RAW_LOG_STD_BOUND, RAW_LOG_STD_STUCK } from "./crl.js";
import { CONTRASTIVE_LOSSES, ENERGY_FNS, LOG_STD_MAX, LOG_STD_MIN } from "./losses.js";

// metrics buffer layout (floats)
const M = {
  critic_loss: 0,
  actor_loss: 1,
  alpha_loss: 2,
  log_alpha: 3,
  logsumexp: 4,
  categorical_accuracy: 5,
  logits_pos: 6,
  logits_neg: 7,
  entropy: 8,
  log_std_min: 9,
  log_std_max: 10,
  log_std_stuck_dims: 11,
  mean_abs_max: 12,
  grad_norm_actor: 13,
  grad_norm_sa_encoder: 14,
  grad_norm_goal_encoder: 15,
  mean_logp: 16,
  sumsq_actor: 17,
  sumsq_sa: 18,
  sumsq_goal: 19,
  /** 1 when every loss and gradient norm is finite (then all four Adam steps apply), else 0. */
  gate: 20,
} as const;
const NUM_METRICS = 21;
/** Per-step scalars at the end of the upload: [lr, 1 − β1^t, 1 − β2^t] × (actor, φ, ψ, α). */
const HP = 12;

const COMMON = `
const LOG_STD_MIN = ${LOG_STD_MIN.toFixed(1)};
const LOG_STD_MAX = ${LOG_STD_MAX.toFixed(1)};
const HALF_LOG_2PI = ${(0.5 * Math.log(2 * Math.PI)).toPrecision(10)};
const LOG2 = ${Math.LN2.toPrecision(10)};
const MIN_DIST = 1e-12;
// tanh saturates to ±1 in float32 past |x| = 9; clamping keeps exp-based implementations finite
fn tanh_s(x: f32) -> f32 { return tanh(clamp(x, -15.0, 15.0)); }
fn softplus(x: f32) -> f32 { return select(log(1.0 + exp(x)), x + log(1.0 + exp(-x)), x > 0.0); }
fn log_std(raw: f32) -> f32 { return LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (tanh_s(raw) + 1.0); }
fn finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
// 1 − tanh²x from x: 1 − a² from a rounded tanh loses up to 1e-4 of it where |a| → 1
fn sech2(x: f32) -> f32 { let e = exp(-2.0 * abs(x)); return 4.0 * e / ((1.0 + e) * (1.0 + e)); }
fn sigmoid(x: f32) -> f32 { let e = exp(-abs(x)); return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0); }`;

const THREAD_HEAD = `@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = lin(wid, nwg) * 64u + lid.x;`;

/** Workgroup reductions over 64 threads (sum; max with its first index). */
const RED64 = `
var<workgroup> rv: array<f32, 64>;
var<workgroup> ri: array<u32, 64>;
fn wg_sum(v: f32, t: u32) -> f32 {
  rv[t] = v;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (t < s) { rv[t] = rv[t] + rv[t + s]; }
    workgroupBarrier();
  }
  let r = rv[0];
  workgroupBarrier();
  return r;
}
fn wg_argmax(v: f32, idx: u32, t: u32) -> vec2<u32> {
  rv[t] = v;
  ri[t] = idx;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (t < s) {
      let a = rv[t];
      let b = rv[t + s];
      if (b > a || (b == a && ri[t + s] < ri[t])) { rv[t] = b; ri[t] = ri[t + s]; }
    }
    workgroupBarrier();
  }
  let r = vec2<u32>(bitcast<u32>(rv[0]), ri[0]);
  workgroupBarrier();
  return r;
}`;

const K_SAMPLE: KernelDef = {
  name: "crl_sample",
  ops: [{ name: "mean" }, { name: "raw" }, { name: "eps" }, { name: "x", write: true }, { name: "a", write: true }, { name: "logp", write: true }],
  scalars: [
    ["B", "u32"],
    ["A", "u32"],
    ["exact", "u32"],
  ],
  body: `${COMMON}
${THREAD_HEAD}
  if (i >= u.B) { return; }
  var lp = 0.0;
  for (var k = 0u; k < u.A; k++) {
    let o = i * u.A + k;
    let ls = log_std(raw_ld(o));
    let e = eps_ld(o);
    let xv = mean_ld(o) + exp(ls) * e;
    let av = tanh_s(xv);
    x_st(o, xv);
    a_st(o, av);
    var det = log(sech2(xv) + 1e-6);
    if (u.exact == 1u) { det = 2.0 * (LOG2 - xv - softplus(-2.0 * xv)); }
    lp += -0.5 * e * e - ls - HALF_LOG_2PI - det;
  }
  logp_st(i, lp);
}`,
};

// per action dim k: batch-mean log σ, whether the dim is stuck, max |mean|
const K_DIAG: KernelDef = {
  name: "crl_actor_diag",
  ops: [{ name: "mean" }, { name: "raw" }, { name: "diag", write: true }],
  scalars: [
    ["B", "u32"],
    ["A", "u32"],
  ],
  body: `${COMMON}
${THREAD_HEAD}
  if (i >= u.A) { return; }
  var s = 0.0;
  var stuck = 0u;
  var mx = 0.0;
  for (var r = 0u; r < u.B; r++) {
    let v = raw_ld(r * u.A + i);
    s += log_std(v);
    if (abs(v) > ${RAW_LOG_STD_STUCK.toFixed(1)}) { stuck++; }
    mx = max(mx, abs(mean_ld(r * u.A + i)));
  }
  diag_st(i, s / f32(u.B));
  diag_st(u.A + i, select(0.0, 1.0, f32(stuck) >= 0.9 * f32(u.B)));
  diag_st(2u * u.A + i, mx);
}`,
};

// energy(φ_i, ψ_i) per row and coef · ∂energy/∂φ_i (losses.ts rowEnergy, rowEnergyGradPhi)
const K_ROW_ENERGY: KernelDef = {
  name: "crl_row_energy",
  ops: [{ name: "phi" }, { name: "psi" }, { name: "qf", write: true }, { name: "dphi", write: true }],
  scalars: [
    ["B", "u32"],
    ["R", "u32"],
    ["fn_", "u32"],
    ["coef", "f32"],
  ],
  body: `${COMMON}
${THREAD_HEAD}
  if (i >= u.B) { return; }
  let o = i * u.R;
  var dot = 0.0; var d2 = 0.0; var pp = 0.0; var qq = 0.0;
  for (var k = 0u; k < u.R; k++) {
    let a = phi_ld(o + k); let b = psi_ld(o + k);
    dot += a * b; d2 += (a - b) * (a - b); pp += a * a; qq += b * b;
  }
  let np = max(sqrt(pp), MIN_DIST);
  let nq = max(sqrt(qq), MIN_DIST);
  let dist = max(sqrt(d2), MIN_DIST);
  var q = 0.0;
  if (u.fn_ == 0u) { q = -sqrt(d2); } else if (u.fn_ == 1u) { q = -d2; } else if (u.fn_ == 2u) { q = dot; } else { q = dot / (np * nq); }
  qf_st(i, q);
  let cosv = dot / (np * nq);
  for (var k = 0u; k < u.R; k++) {
    let a = phi_ld(o + k); let b = psi_ld(o + k);
    var g = 0.0;
    if (u.fn_ == 0u) { g = -u.coef * (a - b) / dist; }
    else if (u.fn_ == 1u) { g = -2.0 * u.coef * (a - b); }
    else if (u.fn_ == 2u) { g = u.coef * b; }
    else { g = (u.coef * (b / nq - (cosv * a) / np)) / np; }
    dphi_st(o + k, g);
  }
}`,
};

// actor loss sums: Σ log π, Σ qf, the raw log-std penalty; α = exp(log α) before its update
const K_ACTOR_SCALARS: KernelDef = {
  name: "crl_actor_scalars",
  ops: [{ name: "logp" }, { name: "qf" }, { name: "raw" }, { name: "st" }, { name: "met", write: true }],
  scalars: [
    ["B", "u32"],
    ["A", "u32"],
    ["pen", "f32"],
    ["target_entropy", "f32"],
  ],
  body: `${COMMON}
${RED64}
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  let t = lid.x;
  var sl = 0.0; var sq = 0.0; var sp = 0.0;
  for (var i = t; i < u.B; i += 64u) { sl += logp_ld(i); sq += qf_ld(i); }
  if (u.pen > 0.0) {
    for (var o = t; o < u.B * u.A; o += 64u) { let over = abs(raw_ld(o)) - ${RAW_LOG_STD_BOUND.toFixed(1)}; if (over > 0.0) { sp += over * over; } }
  }
  let SL = wg_sum(sl, t);
  let SQ = wg_sum(sq, t);
  let SP = wg_sum(sp, t);
  if (t == 0u) {
    let alpha = exp(st_ld(0u));
    let invB = 1.0 / f32(u.B);
    let meanLogp = SL * invB;
    met_st(${M.actor_loss}u, (alpha * SL - SQ) * invB + u.pen * SP * invB);
    met_st(${M.mean_logp}u, meanLogp);
    met_st(${M.entropy}u, -meanLogp);
    met_st(${M.alpha_loss}u, alpha * (-meanLogp - u.target_entropy));
  }
}`,
};

// ∂loss/∂(mean, raw) through the tanh-Gaussian (losses.ts tanhGaussianBackward) + the penalty
const K_TANH_BWD: KernelDef = {
  name: "crl_tanh_bwd",
  ops: [{ name: "raw" }, { name: "eps" }, { name: "a" }, { name: "x" }, { name: "da" }, { name: "st" }, { name: "dmean", write: true }, { name: "draw", write: true }],
  scalars: [
    ["B", "u32"],
    ["A", "u32"],
    ["exact", "u32"],
    ["pen", "f32"],
  ],
  body: `${COMMON}
${THREAD_HEAD}
  if (i >= u.B * u.A) { return; }
  let invB = 1.0 / f32(u.B);
  let dlogp = exp(st_ld(0u)) * invB;
  var gx = 0.0;
  if (u.exact == 1u) {
    let xv = x_ld(i);
    gx = da_ld(i) * sech2(xv) + dlogp * 2.0 * tanh_s(xv);
  } else {
    let av = a_ld(i);
    let om = sech2(x_ld(i));
    gx = da_ld(i) * om + dlogp * ((2.0 * av * om) / (om + 1e-6));
  }
  let r = raw_ld(i);
  let t = tanh_s(r);
  let half = 0.5 * (LOG_STD_MAX - LOG_STD_MIN);
  let sigma = exp(LOG_STD_MIN + half * (t + 1.0));
  let dls = gx * sigma * eps_ld(i) - dlogp;
  var dr = dls * half * (1.0 - t * t);
  let over = abs(r) - ${RAW_LOG_STD_BOUND.toFixed(1)};
  if (u.pen > 0.0 && over > 0.0) { dr += 2.0 * u.pen * over * sign(r) * invB; }
  dmean_st(i, gx);
  draw_st(i, dr);
}`,
};

// after every gradient is known: the gate (CRLAgent's checks: both losses, α's gradient and the
// three gradient norms finite) and, when it holds, Adam on log α. α's gradient is alpha_loss's
// value (d(α·(−log π − target))/d log α = α·(−log π − target)).
const K_GATE: KernelDef = {
  name: "crl_gate_alpha",
  ops: [{ name: "met", write: true }, { name: "st", write: true }, { name: "hp" }],
  scalars: [
    ["b1", "f32"],
    ["b2", "f32"],
    ["eps", "f32"],
  ],
  body: `${COMMON}
@compute @workgroup_size(1)
fn main() {
  let actor_ok = finite(met_ld(${M.actor_loss}u)) && finite(met_ld(${M.sumsq_actor}u)) && finite(met_ld(${M.alpha_loss}u));
  let critic_ok = finite(met_ld(${M.critic_loss}u)) && finite(met_ld(${M.sumsq_sa}u)) && finite(met_ld(${M.sumsq_goal}u));
  let ok = actor_ok && critic_ok;
  met_st(${M.gate}u, select(0.0, 1.0, ok));
  if (!ok) { return; }
  // d(α·(−log π − target entropy))/d log α with α before this step (st[3] = target entropy)
  let g = exp(st_ld(0u)) * (-met_ld(${M.mean_logp}u) - st_ld(3u));
  let m = u.b1 * st_ld(1u) + (1.0 - u.b1) * g;
  let v = u.b2 * st_ld(2u) + (1.0 - u.b2) * g * g;
  st_st(1u, m);
  st_st(2u, v);
  st_st(0u, st_ld(0u) - (hp_ld(0u) * (m / hp_ld(1u))) / (sqrt(v / hp_ld(2u)) + u.eps));
}`,
};

// pairwise logits L_ij = energy(φ_i, ψ_j), computed directly (no ‖φ‖² + ‖ψ‖² − 2φ·ψ
// cancellation), and D_ij = ‖φ_i − ψ_j‖ for the backward of "norm"
const K_PAIRWISE: KernelDef = {
  name: "crl_pairwise",
  ops: [{ name: "phi" }, { name: "psi" }, { name: "L", write: true }, { name: "D", write: true }],
  scalars: [
    ["B", "u32"],
    ["R", "u32"],
    ["fn_", "u32"],
  ],
  body: `${COMMON}
${THREAD_HEAD}
  if (i >= u.B * u.B) { return; }
  let r = i / u.B;
  let c = i % u.B;
  var d2 = 0.0; var dot = 0.0;
  for (var k = 0u; k < u.R; k++) {
    let a = phi_ld(r * u.R + k); let b = psi_ld(c * u.R + k);
    d2 += (a - b) * (a - b); dot += a * b;
  }
  var l = 0.0;
  if (u.fn_ == 0u) { l = -sqrt(d2); } else if (u.fn_ == 1u) { l = -d2; } else { l = dot; }
  L_st(i, l);
  D_st(i, sqrt(d2));
}`,
};

// rows to unit length (cosine): xh = x / max(‖x‖, MIN_DIST), norms kept for the backward
const K_NORMALIZE: KernelDef = {
  name: "crl_normalize",
  ops: [{ name: "x" }, { name: "xh", write: true }, { name: "nrm", write: true }],
  scalars: [
    ["B", "u32"],
    ["R", "u32"],
  ],
  body: `${COMMON}
${THREAD_HEAD}
  if (i >= u.B) { return; }
  var s = 0.0;
  for (var k = 0u; k < u.R; k++) { let v = x_ld(i * u.R + k); s += v * v; }
  let n = sqrt(s);
  let inv = 1.0 / max(n, MIN_DIST);
  for (var k = 0u; k < u.R; k++) { xh_st(i * u.R + k, x_ld(i * u.R + k) * inv); }
  nrm_st(i, n);
}`,
};

// cosine backward: dx_i = (dx̂_i − (dx̂_i·x̂_i) x̂_i) / ‖x_i‖, in place on dx
const K_COS_PROJECT: KernelDef = {
  name: "crl_cos_project",
  ops: [{ name: "dx", write: true }, { name: "xh" }, { name: "nrm" }],
  scalars: [
    ["B", "u32"],
    ["R", "u32"],
  ],
  body: `${COMMON}
${THREAD_HEAD}
  if (i >= u.B) { return; }
  var p = 0.0;
  for (var k = 0u; k < u.R; k++) { p += dx_ld(i * u.R + k) * xh_ld(i * u.R + k); }
  let inv = 1.0 / max(nrm_ld(i), MIN_DIST);
  for (var k = 0u; k < u.R; k++) { let o = i * u.R + k; dx_st(o, (dx_ld(o) - p * xh_ld(o)) * inv); }
}`,
};

// contrastive loss per row (losses.ts contrastiveLoss): one workgroup per row i. G row =
// softmax·coef (− 1/B on the diagonal for the row InfoNCE), + binary NCE's (σ(L) − I)/B².
// rs[i] = [loss term, (lse_i + 1e-6)/B, correct, L_ii, Σ_j≠i L_ij]
const K_LOSS_ROWS: KernelDef = {
  name: "crl_loss_rows",
  ops: [{ name: "L" }, { name: "G", write: true }, { name: "rs", write: true }],
  scalars: [
    ["B", "u32"],
    ["kind", "u32"],
    ["pen", "f32"],
  ],
  body: `${COMMON}
${RED64}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = lin(wid, nwg);
  if (i >= u.B) { return; }
  let t = lid.x;
  let o = i * u.B;
  let invB = 1.0 / f32(u.B);
  var mx = -3.0e38; var arg = 0xffffffffu; var rsum = 0.0;
  for (var j = t; j < u.B; j += 64u) {
    let v = L_ld(o + j);
    if (v > mx) { mx = v; arg = j; }
    rsum += v;
  }
  let am = wg_argmax(mx, arg, t);
  let m = bitcast<f32>(am.x);
  let RS = wg_sum(rsum, t);
  var z = 0.0;
  for (var j = t; j < u.B; j += 64u) { z += exp(L_ld(o + j) - m); }
  let Z = wg_sum(z, t);
  let lse = m + log(Z);
  let l = lse + 1e-6;
  let rowNce = u.kind == 0u || u.kind == 2u;
  var coef = 0.0;
  var loss = 0.0;
  let lii = L_ld(o + i);
  if (rowNce) { loss -= (lii - lse) * invB; coef += invB; }
  if (u.pen != 0.0) { loss += u.pen * l * l * invB; coef += 2.0 * u.pen * l * invB; }
  var bce = 0.0;
  for (var j = t; j < u.B; j += 64u) {
    let x = L_ld(o + j);
    var g = exp(x - m) * coef / Z;
    if (rowNce && j == i) { g -= invB; }
    if (u.kind == 3u) {
      let y = select(0.0, 1.0, j == i);
      bce += softplus(x) - x * y;
      g += (sigmoid(x) - y) * invB * invB;
    }
    G_st(o + j, g);
  }
  let BCE = wg_sum(bce, t);
  if (t == 0u) {
    rs_st(i * 5u, loss + BCE * invB * invB);
    rs_st(i * 5u + 1u, l * invB);
    rs_st(i * 5u + 2u, select(0.0, 1.0, am.y == i));
    rs_st(i * 5u + 3u, lii);
    rs_st(i * 5u + 4u, RS - lii);
  }
}`,
};

// backward InfoNCE over columns (bwd, sym): one workgroup per column j; cs[j] = its loss term
const K_LOSS_COLS: KernelDef = {
  name: "crl_loss_cols",
  ops: [{ name: "L" }, { name: "G", write: true }, { name: "cs", write: true }],
  scalars: [["B", "u32"]],
  body: `${COMMON}
${RED64}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let j = lin(wid, nwg);
  if (j >= u.B) { return; }
  let t = lid.x;
  let invB = 1.0 / f32(u.B);
  var mx = -3.0e38;
  for (var i = t; i < u.B; i += 64u) { mx = max(mx, L_ld(i * u.B + j)); }
  let m = bitcast<f32>(wg_argmax(mx, 0u, t).x);
  var z = 0.0;
  for (var i = t; i < u.B; i += 64u) { z += exp(L_ld(i * u.B + j) - m); }
  let lse = m + log(wg_sum(z, t));
  for (var i = t; i < u.B; i += 64u) {
    let o = i * u.B + j;
    G_st(o, G_ld(o) + exp(L_ld(o) - lse) * invB - select(0.0, invB, i == j));
  }
  if (t == 0u) { cs_st(j, -(L_ld(j * u.B + j) - lse) * invB); }
}`,
};

const K_CRITIC_SCALARS: KernelDef = {
  name: "crl_critic_scalars",
  ops: [{ name: "rs" }, { name: "cs" }, { name: "met", write: true }],
  scalars: [
    ["B", "u32"],
    ["cols", "u32"],
  ],
  body: `${COMMON}
${RED64}
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  let t = lid.x;
  var a = array<f32, 5>(0.0, 0.0, 0.0, 0.0, 0.0);
  var c = 0.0;
  for (var i = t; i < u.B; i += 64u) {
    for (var q = 0u; q < 5u; q++) { a[q] += rs_ld(i * 5u + q); }
    if (u.cols == 1u) { c += cs_ld(i); }
  }
  let loss = wg_sum(a[0], t) + wg_sum(c, t);
  let lse = wg_sum(a[1], t);
  let correct = wg_sum(a[2], t);
  let pos = wg_sum(a[3], t);
  let neg = wg_sum(a[4], t);
  if (t == 0u) {
    let fb = f32(u.B);
    met_st(${M.critic_loss}u, loss);
    met_st(${M.logsumexp}u, lse);
    met_st(${M.categorical_accuracy}u, correct / fb);
    met_st(${M.logits_pos}u, pos / fb);
    met_st(${M.logits_neg}u, select(0.0, neg / (fb * (fb - 1.0)), u.B > 1u));
  }
}`,
};

// norm / l2 backward, directly: dΦ_i = Σ_j H_ij (Ψ_j − Φ_i), H = G/D (norm) or 2G (l2); and
// dΨ_j = Σ_i H_ij (Φ_i − Ψ_j) (same kernel, "side" 1, with the roles swapped)
const K_PAIR_BWD: KernelDef = {
  name: "crl_pair_bwd",
  ops: [{ name: "phi" }, { name: "psi" }, { name: "G" }, { name: "D" }, { name: "out", write: true }],
  scalars: [
    ["B", "u32"],
    ["R", "u32"],
    ["fn_", "u32"],
    ["side", "u32"],
  ],
  body: `${COMMON}
${THREAD_HEAD}
  if (i >= u.B * u.R) { return; }
  let r = i / u.R;
  let k = i % u.R;
  var s = 0.0;
  if (u.side == 0u) {
    let own = phi_ld(i);
    for (var j = 0u; j < u.B; j++) {
      let o = r * u.B + j;
      let h = select(G_ld(o) / max(D_ld(o), MIN_DIST), 2.0 * G_ld(o), u.fn_ == 1u);
      s += h * (psi_ld(j * u.R + k) - own);
    }
  } else {
    let own = psi_ld(i);
    for (var j = 0u; j < u.B; j++) {
      let o = j * u.B + r;
      let h = select(G_ld(o) / max(D_ld(o), MIN_DIST), 2.0 * G_ld(o), u.fn_ == 1u);
      s += h * (phi_ld(j * u.R + k) - own);
    }
  }
  out_st(i, s);
}`,
};

// the last metrics: log α after its step, gradient norms, the log-std range over action dims
const K_FINAL: KernelDef = {
  name: "crl_final_metrics",
  ops: [{ name: "diag" }, { name: "st" }, { name: "met", write: true }],
  scalars: [["A", "u32"]],
  body: `${COMMON}
@compute @workgroup_size(1)
fn main() {
  var lo = 3.0e38; var hi = -3.0e38; var stuck = 0.0; var mx = 0.0;
  for (var k = 0u; k < u.A; k++) {
    lo = min(lo, diag_ld(k)); hi = max(hi, diag_ld(k));
    stuck += diag_ld(u.A + k); mx = max(mx, diag_ld(2u * u.A + k));
  }
  met_st(${M.log_std_min}u, lo);
  met_st(${M.log_std_max}u, hi);
  met_st(${M.log_std_stuck_dims}u, stuck);
  met_st(${M.mean_abs_max}u, mx);
  met_st(${M.log_alpha}u, st_ld(0u));
  met_st(${M.grad_norm_actor}u, sqrt(met_ld(${M.sumsq_actor}u)));
  met_st(${M.grad_norm_sa_encoder}u, sqrt(met_ld(${M.sumsq_sa}u)));
  met_st(${M.grad_norm_goal_encoder}u, sqrt(met_ld(${M.sumsq_goal}u)));
}`,
};

/** Every CRL kernel (tests compile them all). */
export const CRL_WEBGPU_KERNELS: readonly KernelDef[] = [
  K_SAMPLE,
  K_DIAG,
  K_ROW_ENERGY,
  K_ACTOR_SCALARS,
  K_TANH_BWD,
  K_GATE,
  K_PAIRWISE,
  K_NORMALIZE,
  K_COS_PROJECT,
  K_LOSS_ROWS,
  K_LOSS_COLS,
  K_CRITIC_SCALARS,
  K_PAIR_BWD,
  K_FINAL,
];

/**
 * Whether GpuCRL with this config fits the device's buffer limits (`check`: a context's
 * requireLimit, or adapterLimitCheck(adapter) before a run starts): its three networks (see
 * checkResNetFits) and the B × B logits (and their gradient and distances, one buffer each), the
 * update's largest operands besides the networks. Throws naming the limit, the size and what to change.
 */
export function checkGpuCRLFits(check: LimitCheck, dims: CRLDims, c: CRLConfig, actBatch = 0): void {
  const { stateDim: S, goalDim: G, actionDim: A } = dims;
  const B = c.batchSize;
  const R = c.reprDim;
  for (const limit of ["maxStorageBufferBindingSize", "maxBufferSize"] as const) {
    check(limit, `the contrastive logits of batch size ${B} (${B} × ${B} floats)`, 4 * B * B, (allowed) => `use --batch-size ${Math.floor(Math.sqrt(allowed / 4))} or less`);
  }
  checkResNetFits(check, { inDim: S + A, width: c.criticWidth, depth: c.criticDepth, heads: [{ name: "repr", dim: R }], maxBatch: B });
  checkResNetFits(check, { inDim: G, width: c.criticWidth, depth: c.criticDepth, heads: [{ name: "repr", dim: R }], maxBatch: B });
  checkResNetFits(check, { inDim: S + G, width: c.actorWidth, depth: c.actorDepth, heads: gaussianActorHeads(A), maxBatch: actChunkRows(B, actBatch), headNorm: c.actorHeadNorm });
}

interface Net {
  net: GpuResNet;
  m: GpuView; // Adam first moment [numel]
  v: GpuView; // Adam second moment [numel]
  step: number;
}

export interface GpuCRLOptions {
  /**
   * The most observations one actorForward() call takes: the actor is built for max(batchSize,
   * min(actBatch, 4096)) rows, as CRLAgent's acting chunk (default: batchSize).
   */
  actBatch?: number;
}

/**
 * CRL's update (and the actor's forward pass for acting) on a WebGPU device. Its parameters start
 * at zero: load a CRLAgent's stateTensors() (a fresh agent's for a new run, a checkpoint's to go on).
 */
export class GpuCRL {
  readonly config: CRLConfig;
  readonly dims: CRLDims;
  readonly actor: Net;
  readonly sa: Net;
  readonly goal: Net;
  /** Gradient steps taken. */
  updates = 0;
  private alphaStep = 0;
  private rng: Rng;
  private readonly K: WebGpuKernels;
  private readonly bufs: GpuBuf[] = [];
  private readonly upload: Float32Array; // host staging of the upload buffer
  private readonly up: GpuView;
  private readonly st: GpuView; // [log α, m, v, target entropy]
  private readonly met: GpuView;
  private readonly program: Program;
  private readonly metricsHost = new Float32Array(NUM_METRICS);
  /** Rows per actorForward() call at most (the actor's maxBatch). */
  readonly actChunk: number;
  private readonly actIn: GpuView; // [actChunk, S+G]
  /** The actor's forward pass per row count, recorded on first use. */
  private readonly actPrograms = new Map<number, Program>();

  constructor(
    readonly ctx: WebGpuContext,
    dims: CRLDims,
    config: CRLConfig,
    options: GpuCRLOptions = {},
  ) {
    if (config.precision !== "fp32") throw new Error(`GpuCRL runs fp32 only (${WebGpuKernels.bf16Unavailable()}); resolve the precision first`);
    if (!ENERGY_FNS.includes(config.energyFn)) throw new Error(`unknown energy function ${config.energyFn}`);
    if (!CONTRASTIVE_LOSSES.includes(config.contrastiveLoss)) throw new Error(`unknown contrastive loss ${config.contrastiveLoss}`);
    this.config = { ...config };
    this.dims = { ...dims };
    this.K = new WebGpuKernels(ctx);
    this.rng = new Rng([1, 2]);
    const c = config;
    const { stateDim: S, goalDim: G, actionDim: A } = dims;
    const B = c.batchSize;
    const R = c.reprDim;
    this.actChunk = actChunkRows(B, options.actBatch);
    checkGpuCRLFits((...a) => ctx.requireLimit(...a), dims, c, options.actBatch);
    const net = (inDim: number, width: number, depth: number, heads: { name: string; dim: number }[], headNorm: boolean, maxBatch: number): Net => {
      const n = new GpuResNet(ctx, { inDim, width, depth, heads, maxBatch, recompute: c.recompute, headNorm });
      // m and v in buffers of their own: Adam's dispatches then bind matching windows of each
      // (kernels.ts splits a step over a network larger than one binding into several)
      return { net: n, m: this.buf(n.layout.numel, "adam m"), v: this.buf(n.layout.numel, "adam v"), step: 0 };
    };
    this.sa = net(S + A, c.criticWidth, c.criticDepth, [{ name: "repr", dim: R }], false, B);
    this.goal = net(G, c.criticWidth, c.criticDepth, [{ name: "repr", dim: R }], false, B);
    this.actor = net(S + G, c.actorWidth, c.actorDepth, gaussianActorHeads(A), c.actorHeadNorm, this.actChunk);
    this.actIn = this.buf(this.actChunk * (S + G), "actor acting input");

    // ── buffers ──
    const upLen = B * (S + A + G + A) + HP;
    this.upload = new Float32Array(upLen);
    this.up = this.buf(upLen, "crl upload");
    const state = sub(this.up, 0, B * S);
    const action = sub(this.up, B * S, B * A);
    const goal = sub(this.up, B * (S + A), B * G);
    const eps = sub(this.up, B * (S + A + G), B * A);
    const hp = (k: number) => sub(this.up, upLen - HP + 3 * k, 3);
    this.st = this.buf(4, "crl log alpha state");
    this.met = this.buf(NUM_METRICS, "crl metrics");
    const metAt = (k: number) => sub(this.met, k, 1);
    const actorIn = this.buf(B * (S + G), "actor input");
    const saIn = this.buf(B * (S + A), "sa input");
    const xs = this.buf(B * A, "pre-tanh sample");
    const acts = this.buf(B * A, "actions");
    const logp = this.buf(B, "log pi");
    const qf = this.buf(B, "qf");
    const dPhi = this.buf(B * R, "dphi");
    const dPsi = this.buf(B * R, "dpsi");
    const dA = this.buf(B * A, "da");
    const dMean = this.buf(B * A, "dmean");
    const dRaw = this.buf(B * A, "draw");
    const diag = this.buf(3 * A, "actor diag");
    const logits = this.buf(B * B, "logits");
    const Gm = this.buf(B * B, "dlogits");
    const Dm = this.buf(B * B, "distances");
    const rows = this.buf(5 * B, "loss rows");
    const cols = this.buf(B, "loss cols");
    const scratch = this.buf(SUMSQ_PARTIALS, "sumsq scratch");
    const hats = c.energyFn === "cosine" ? this.buf(2 * B * R + 2 * B, "cosine") : null;

    // ── the update, recorded once ──
    const K = this.K;
    const energyCode = ENERGY_FNS.indexOf(c.energyFn); // norm 0, l2 1, dot 2, cosine 3
    const lossCode = CONTRASTIVE_LOSSES.indexOf(c.contrastiveLoss); // fwd 0, bwd 1, sym 2, binary 3
    const exact = c.tanhLogDet === "exact" ? 1 : 0;
    const pen = c.logStdRawPenalty;
    const { b1, b2, eps: adamEps } = { b1: ADAM_DEFAULTS.beta1, b2: ADAM_DEFAULTS.beta2, eps: ADAM_DEFAULTS.eps };
    const groups = (n: number) => Math.ceil(n / 64);
    ctx.beginProgram();
    // actor step: a ~ π(·|s, g), φ(s, a), ψ(g)
    K.copy2d(state, S, actorIn, S + G, B, S);
    K.copy2d(goal, G, sub(actorIn, S, actorIn.len - S), S + G, B, G);
    const an = this.actor.net;
    an.forward(actorIn, B);
    const [mean, raw] = an.outputs;
    ctx.dispatch(K_SAMPLE, { mean, raw, eps, x: xs, a: acts, logp }, { B, A, exact }, groups(B));
    ctx.dispatch(K_DIAG, { mean, raw, diag }, { B, A }, groups(A));
    K.copy2d(state, S, saIn, S + A, B, S);
    K.copy2d(acts, A, sub(saIn, S, saIn.len - S), S + A, B, A);
    const sn = this.sa.net;
    const gn = this.goal.net;
    sn.forward(saIn, B);
    gn.forward(goal, B);
    const phi = sn.outputs[0];
    const psi = gn.outputs[0];
    ctx.dispatch(K_ROW_ENERGY, { phi, psi, qf, dphi: dPhi }, { B, R, fn_: energyCode, coef: -1 / B }, groups(B));
    ctx.dispatch(K_ACTOR_SCALARS, { logp, qf, raw, st: this.st, met: this.met }, { B, A, pen, target_entropy: c.targetEntropyCoef * A }, 1);
    sn.backward([dPhi], true, false);
    K.copy2d(sub(sn.dInput, S, sn.dInput.len - S), S + A, dA, A, B, A);
    ctx.dispatch(K_TANH_BWD, { raw, eps, a: acts, x: xs, da: dA, st: this.st, dmean: dMean, draw: dRaw }, { B, A, exact, pen }, groups(B * A));
    an.zeroGrad();
    an.backward([dMean, dRaw]);
    an.gradSumsq(scratch, metAt(M.sumsq_actor));
    // critic loss: φ(s, a) on the batch's actions, ψ(g) as above (no parameter has moved yet)
    K.copy2d(action, A, sub(saIn, S, saIn.len - S), S + A, B, A);
    sn.forward(saIn, B);
    if (c.energyFn === "cosine" && hats) {
      const phiHat = sub(hats, 0, B * R);
      const psiHat = sub(hats, B * R, B * R);
      const phiN = sub(hats, 2 * B * R, B);
      const psiN = sub(hats, 2 * B * R + B, B);
      ctx.dispatch(K_NORMALIZE, { x: phi, xh: phiHat, nrm: phiN }, { B, R }, groups(B));
      ctx.dispatch(K_NORMALIZE, { x: psi, xh: psiHat, nrm: psiN }, { B, R }, groups(B));
      K.gemm(false, true, B, B, R, 1, phiHat, psiHat, 0, logits);
      this.lossDispatch(logits, Gm, rows, cols, B, lossCode, c.logsumexpPenalty);
      K.gemm(false, false, B, R, B, 1, Gm, psiHat, 0, dPhi);
      K.gemm(true, false, B, R, B, 1, Gm, phiHat, 0, dPsi);
      ctx.dispatch(K_COS_PROJECT, { dx: dPhi, xh: phiHat, nrm: phiN }, { B, R }, groups(B));
      ctx.dispatch(K_COS_PROJECT, { dx: dPsi, xh: psiHat, nrm: psiN }, { B, R }, groups(B));
    } else {
      ctx.dispatch(K_PAIRWISE, { phi, psi, L: logits, D: Dm }, { B, R, fn_: energyCode }, groups(B * B));
      this.lossDispatch(logits, Gm, rows, cols, B, lossCode, c.logsumexpPenalty);
      if (c.energyFn === "dot") {
        K.gemm(false, false, B, R, B, 1, Gm, psi, 0, dPhi);
        K.gemm(true, false, B, R, B, 1, Gm, phi, 0, dPsi);
      } else {
        ctx.dispatch(K_PAIR_BWD, { phi, psi, G: Gm, D: Dm, out: dPhi }, { B, R, fn_: energyCode, side: 0 }, groups(B * R));
        ctx.dispatch(K_PAIR_BWD, { phi, psi, G: Gm, D: Dm, out: dPsi }, { B, R, fn_: energyCode, side: 1 }, groups(B * R));
      }
    }
    sn.zeroGrad();
    gn.zeroGrad();
    sn.backward([dPhi]);
    gn.backward([dPsi]);
    sn.gradSumsq(scratch, metAt(M.sumsq_sa));
    gn.gradSumsq(scratch, metAt(M.sumsq_goal));
    // every gradient is known: the gate, α's step, then the three networks' steps (all or none)
    ctx.dispatch(K_GATE, { met: this.met, st: this.st, hp: hp(3) }, { b1, b2, eps: adamEps }, 1);
    const gate = metAt(M.gate);
    K.adamStep(an.params, an.grad, this.actor.m, this.actor.v, an.layout.numel, hp(0), gate, b1, b2, adamEps);
    K.adamStep(sn.params, sn.grad, this.sa.m, this.sa.v, sn.layout.numel, hp(1), gate, b1, b2, adamEps);
    K.adamStep(gn.params, gn.grad, this.goal.m, this.goal.v, gn.layout.numel, hp(2), gate, b1, b2, adamEps);
    ctx.dispatch(K_FINAL, { diag, st: this.st, met: this.met }, { A }, 1);
    this.program = ctx.endProgram("crl update");
    ctx.write(this.st, new Float32Array([0, 0, 0, c.targetEntropyCoef * A]));
  }

  private buf(n: number, label: string): GpuView {
    const b = this.ctx.createBuffer(n, label);
    this.bufs.push(b);
    return gview(b, 0, n);
  }

  private lossDispatch(L: GpuView, G: GpuView, rows: GpuView, cols: GpuView, B: number, kind: number, pen: number): void {
    this.ctx.dispatch(K_LOSS_ROWS, { L, G, rs: rows }, { B, kind, pen }, B);
    const colNce = kind === 1 || kind === 2;
    if (colNce) this.ctx.dispatch(K_LOSS_COLS, { L, G, cs: cols }, { B }, B);
    this.ctx.dispatch(K_CRITIC_SCALARS, { rs: rows, cs: cols, met: this.met }, { B, cols: colNce ? 1 : 0 }, 1);
  }

  /**
   * The actor's heads for n ≤ actChunk observations (state ++ goal rows, [n, S+G]): the mean and
   * the raw log-std, [n, A] each (CRLAgent.act turns them into actions). One upload, one
   * submission, one read.
   */
  async actorForward(obs: Float32Array, n: number): Promise<{ mean: Float32Array; raw: Float32Array }> {
    const { stateDim: S, goalDim: G, actionDim: A } = this.dims;
    if (!Number.isInteger(n) || n < 1 || n > this.actChunk) throw new Error(`actorForward takes 1 to ${this.actChunk} observations, got ${n}`);
    if (obs.length < n * (S + G)) throw new Error(`actorForward needs [${n}, ${S + G}] observations, got ${obs.length} values`);
    this.ctx.write(this.actIn, obs.subarray(0, n * (S + G)));
    let p = this.actPrograms.get(n);
    if (!p) {
      this.ctx.beginProgram();
      this.actor.net.forward(this.actIn, n);
      p = this.ctx.endProgram(`actor forward ×${n}`);
      this.actPrograms.set(n, p);
    }
    p.run();
    const [mean, raw] = await this.ctx.readMany([sub(this.actor.net.outputs[0], 0, n * A), sub(this.actor.net.outputs[1], 0, n * A)]);
    return { mean, raw };
  }

  /** Dispatches in one update (one compute pass, one submission). */
  get dispatchesPerUpdate(): number {
    return this.program.dispatches;
  }

  /** Multiply–adds of one update per batch row (as CRLAgent.macsPerUpdateRow). */
  get macsPerUpdateRow(): number {
    const a = this.actor.net.macsPerRow;
    const s = this.sa.net.macsPerRow;
    const g = this.goal.net.macsPerRow;
    return 3 * a + 3 * s + g + 3 * (s + g);
  }

  /**
   * One CRL gradient step (CRLAgent.update's contract): state [B, S], action [B, A], goal [B, G].
   * Throws NonFiniteError (CRLAgent's, checked in its order) with every network, Adam state and α
   * left as they were: the device applies the four Adam steps only when all checks pass.
   */
  async update(state: Float32Array, action: Float32Array, goal: Float32Array): Promise<CRLMetrics> {
    const { stateDim: S, goalDim: G, actionDim: A } = this.dims;
    const c = this.config;
    const B = c.batchSize;
    const u = this.upload;
    if (state.length < B * S || action.length < B * A || goal.length < B * G) {
      throw new Error(`update needs state [${B}, ${S}], action [${B}, ${A}], goal [${B}, ${G}]; got ${state.length}, ${action.length}, ${goal.length} values`);
    }
    u.set(state.subarray(0, B * S), 0);
    u.set(action.subarray(0, B * A), B * S);
    u.set(goal.subarray(0, B * G), B * (S + A));
    const e0 = B * (S + A + G);
    for (let i = 0; i < B * A; i++) u[e0 + i] = this.rng.normal();
    const { beta1: b1, beta2: b2 } = ADAM_DEFAULTS;
    const warm = c.actorLrWarmup;
    const actorLr = warm > 0 ? (c.lr * Math.min(warm, this.actor.step + 1)) / warm : c.lr;
    const hp = u.length - HP;
    const put = (k: number, lr: number, step: number) => {
      u[hp + 3 * k] = lr;
      u[hp + 3 * k + 1] = 1 - b1 ** step;
      u[hp + 3 * k + 2] = 1 - b2 ** step;
    };
    put(0, actorLr, this.actor.step + 1);
    put(1, c.lr, this.sa.step + 1);
    put(2, c.lr, this.goal.step + 1);
    put(3, c.lr, this.alphaStep + 1);
    this.ctx.write(this.up, u);
    this.program.run();
    const m = await this.ctx.read(this.met, this.metricsHost);
    if (!Number.isFinite(m[M.actor_loss])) throw new NonFiniteError("actor", "actor_loss", m[M.actor_loss]);
    if (!Number.isFinite(m[M.critic_loss])) throw new NonFiniteError("critic", "critic_loss", m[M.critic_loss]);
    if (!Number.isFinite(m[M.sumsq_actor])) throw new NonFiniteError("actor", "actor gradient", m[M.sumsq_actor]);
    if (!Number.isFinite(m[M.alpha_loss])) throw new NonFiniteError("alpha", "alpha gradient", m[M.alpha_loss]);
    if (!Number.isFinite(m[M.sumsq_sa])) throw new NonFiniteError("critic (sa_encoder)", "critic gradient", m[M.sumsq_sa]);
    if (!Number.isFinite(m[M.sumsq_goal])) throw new NonFiniteError("critic (goal_encoder)", "critic gradient", m[M.sumsq_goal]);
    if (m[M.gate] !== 1) throw new Error(`GpuCRL: the device skipped the update (gate ${m[M.gate]}) with every loss and gradient norm finite`);
    this.actor.step++;
    this.alphaStep++;
    this.sa.step++;
    this.goal.step++;
    this.updates++;
    const out = {} as CRLMetrics;
    for (const k of CRL_METRIC_NAMES) out[k] = m[M[k]];
    return out;
  }

  /**
   * Loads CRLAgent.stateTensors() (parameters, Adam states, log α and its Adam state, update
   * count, rng), so the device continues exactly where a CPU agent (or checkpoint) stands.
   */
  loadStateTensors(t: ReadonlyMap<string, Tensor>): void {
    const get = (name: string) => {
      const x = t.get(name);
      if (!x) throw new Error(`state lacks "${name}"`);
      return x.data;
    };
    for (const [n, prefix, opt] of [
      [this.actor, "actor.", "optim.actor."],
      [this.sa, "sa_encoder.", "optim.sa_encoder."],
      [this.goal, "goal_encoder.", "optim.goal_encoder."],
    ] as const) {
      const flat = new Float32Array(n.net.layout.numel);
      for (const ti of n.net.layout.tensors) {
        const d = get(prefix + ti.name);
        if (d.length !== ti.size) throw new Error(`tensor ${prefix}${ti.name} has ${d.length} values, the network expects ${ti.size}`);
        flat.set(d as Float32Array, ti.offset);
      }
      n.net.setParams(flat);
      this.ctx.write(n.m, Float32Array.from(get(`${opt}m`)));
      this.ctx.write(n.v, Float32Array.from(get(`${opt}v`)));
      n.step = get(`${opt}step`)[0];
    }
    const a = get("alpha.state");
    this.ctx.write(this.st, new Float32Array([a[0], a[1], a[2], this.config.targetEntropyCoef * this.dims.actionDim]));
    this.alphaStep = a[3];
    this.updates = a[4];
    const r = get("rng.state");
    this.rng = Rng.fromState({ key: [r[0], r[1]], counter: r[2], spare: r[3], spareWord: r[4], normalSpare: r[5] });
  }

  /** Reads the whole state back, in CRLAgent.stateTensors()'s names (for checkpoints and acting). */
  async stateTensors(): Promise<Map<string, Tensor>> {
    const nets = [
      [this.actor, "actor.", "optim.actor."],
      [this.sa, "sa_encoder.", "optim.sa_encoder."],
      [this.goal, "goal_encoder.", "optim.goal_encoder."],
    ] as const;
    const views: GpuView[] = [];
    for (const [n] of nets) views.push(n.net.params, n.m, n.v);
    views.push(this.st);
    const host = await this.ctx.readMany(views);
    const t = new Map<string, Tensor>();
    nets.forEach(([n, prefix, opt], i) => {
      const p = host[3 * i];
      for (const ti of n.net.layout.tensors) t.set(prefix + ti.name, { dtype: "F32", shape: ti.shape, data: p.subarray(ti.offset, ti.offset + ti.size) });
      t.set(`${opt}m`, { dtype: "F32", shape: [n.net.layout.numel], data: host[3 * i + 1] });
      t.set(`${opt}v`, { dtype: "F32", shape: [n.net.layout.numel], data: host[3 * i + 2] });
      t.set(`${opt}step`, { dtype: "F64", shape: [1], data: new Float64Array([n.step]) });
    });
    const st = host[9];
    t.set("alpha.state", { dtype: "F64", shape: [5], data: new Float64Array([st[0], st[1], st[2], this.alphaStep, this.updates]) });
    const rs = this.rng.state();
    t.set("rng.state", {
      dtype: "F64",
      shape: [6],
      data: new Float64Array([rs.key[0], rs.key[1], rs.counter, rs.spare, rs.spareWord, Number.isNaN(rs.normalSpare) ? Number.NaN : rs.normalSpare]),
    });
    return t;
  }

  /** Frees the device buffers (the context stays). */
  destroy(): void {
    this.program.destroy();
    for (const p of this.actPrograms.values()) p.destroy();
    for (const n of [this.actor, this.sa, this.goal]) n.net.destroy();
    for (const b of this.bufs) b.destroy();
  }
}
