// The reference backend: plain TypeScript, written for obviousness, not speed. It is the oracle
// every native kernel is tested against. Accumulations use float64 locals. Precision "bf16" is
// emulated exactly: operands rounded to bf16, then multiplied and summed in float64. Its
// composite kernels are the shared TypeScript ones (engine/composite.ts) over this backend's GEMM.
import type { Backend, Precision } from "../backend.js";
import {
  type ContrastiveLoss,
  type CriticLossStats,
  contrastiveLossTs,
  type EnergyFn,
  type EnergyScratch,
  type LossScratch,
  pairwiseEnergyBackwardTs,
  pairwiseEnergyTs,
  sumSquaresTs,
  type TanhLogDet,
  tanhGaussianBackwardTs,
  tanhGaussianSampleTs,
} from "../composite.js";

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * x (a float32 value) rounded to bf16 (8 significant bits) to nearest even, as vcvtne2ps2bf16
 * does: float32 denormals become ±0 (the instruction treats them as zero), NaN stays NaN,
 * values that round past the largest bf16 become ±Infinity.
 */
export function roundToBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const exp = bits & 0x7f800000;
  if (exp === 0x7f800000) return f32[0]; // ±Infinity, NaN
  if (exp === 0) {
    u32[0] = bits & 0x80000000; // ±0
    return f32[0];
  }
  u32[0] = (bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000; // to nearest, ties to even
  return f32[0];
}

const exact = (x: number) => x;

export class RefBackend implements Backend {
  readonly name = "ref";
  readonly threads = 1;

  describe(): string {
    return "ref (pure TypeScript, 1 thread)";
  }

  bf16Unavailable(): string | null {
    return null; // emulated (roundToBf16)
  }

  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    b: Float32Array,
    beta: number,
    c: Float32Array,
    precision: Precision = "fp32",
  ): void {
    const q = precision === "bf16" ? roundToBf16 : exact;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = transA ? a[p * m + i] : a[i * k + p]; // A: [k, m] | [m, k]
          const bv = transB ? b[j * k + p] : b[p * n + j]; // B: [n, k] | [k, n]
          s += q(av) * q(bv);
        }
        const prev = beta === 0 ? 0 : beta * c[i * n + j];
        c[i * n + j] = alpha * s + prev;
      }
    }
  }

  biasAdd(x: Float32Array, bias: Float32Array, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) x[r * cols + j] += bias[j];
  }

  biasBackward(dy: Float32Array, db: Float32Array, rows: number, cols: number): void {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += dy[r * cols + j];
      db[j] += s;
    }
  }

  layerNormForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    rows: number,
    cols: number,
    eps: number,
  ): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let mu = 0;
      for (let j = 0; j < cols; j++) mu += x[o + j];
      mu /= cols;
      let v = 0;
      for (let j = 0; j < cols; j++) v += (x[o + j] - mu) ** 2;
      v /= cols;
      const rs = 1 / Math.sqrt(v + eps);
      mean[r] = mu;
      rstd[r] = rs;
      for (let j = 0; j < cols; j++) y[o + j] = (x[o + j] - mu) * rs * gamma[j] + beta[j];
    }
  }

  layerNormBackward(
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    gamma: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    rows: number,
    cols: number,
  ): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const mu = mean[r];
      const rs = rstd[r];
      // dxhat = dy·γ; dx = rstd·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat))
      let sumD = 0;
      let sumDX = 0;
      for (let j = 0; j < cols; j++) {
        const xh = (x[o + j] - mu) * rs;
        const d = dy[o + j] * gamma[j];
        sumD += d;
        sumDX += d * xh;
        dgamma[j] += dy[o + j] * xh;
        dbeta[j] += dy[o + j];
      }
      const mD = sumD / cols;
      const mDX = sumDX / cols;
      for (let j = 0; j < cols; j++) {
        const xh = (x[o + j] - mu) * rs;
        dx[o + j] = rs * (dy[o + j] * gamma[j] - mD - xh * mDX);
      }
    }
  }

  swishForward(x: Float32Array, y: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) y[i] = x[i] * sigmoid(x[i]);
  }

  swishBackward(dy: Float32Array, x: Float32Array, dx: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) {
      const s = sigmoid(x[i]);
      dx[i] = dy[i] * (s * (1 + x[i] * (1 - s)));
    }
  }

  denseLnSwishForward(
    x: Float32Array,
    w: Float32Array,
    b: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    z: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    y: Float32Array,
    rows: number,
    inDim: number,
    outDim: number,
    eps: number,
    precision: Precision = "fp32",
  ): void {
    this.gemm(false, false, rows, outDim, inDim, 1, x, w, 0, z, precision);
    this.biasAdd(z, b, rows, outDim);
    this.layerNormForward(z, gamma, beta, y, mean, rstd, rows, outDim, eps);
    this.swishForward(y, y, rows * outDim);
  }

  denseLnSwishBackward(
    dy: Float32Array,
    x: Float32Array,
    w: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    z: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    dx: Float32Array | null,
    dw: Float32Array | null,
    db: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    rows: number,
    inDim: number,
    outDim: number,
    precision: Precision = "fp32",
  ): void {
    // u = LN(z) is recomputed from the cached mean/rstd, then swish' applied in place on dy.
    for (let r = 0; r < rows; r++) {
      const o = r * outDim;
      for (let j = 0; j < outDim; j++) {
        const u = (z[o + j] - mean[r]) * rstd[r] * gamma[j] + beta[j];
        const s = sigmoid(u);
        dy[o + j] *= s * (1 + u * (1 - s));
      }
    }
    this.layerNormBackward(dy, z, mean, rstd, gamma, dy, dgamma, dbeta, rows, outDim); // dy ← dz
    this.biasBackward(dy, db, rows, outDim);
    if (dw) this.gemm(true, false, inDim, outDim, rows, 1, x, dy, 1, dw, precision); // dW += xᵀ·dz
    if (dx) this.gemm(false, true, rows, inDim, outDim, 1, dy, w, 0, dx, precision); // dx = dz·Wᵀ
  }

  adamStep(
    param: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    step: number,
  ): void {
    const bc1 = 1 - beta1 ** step;
    const bc2 = 1 - beta2 ** step;
    for (let i = 0; i < n; i++) {
      const g = grad[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      const mh = m[i] / bc1;
      const vh = v[i] / bc2;
      param[i] -= (lr * mh) / (Math.sqrt(vh) + eps);
    }
  }

  add(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
  }

  sumSquares(x: Float32Array, n: number): number {
    return sumSquaresTs(x, n);
  }

  pairwiseEnergy(fn: EnergyFn, phi: Float32Array, psi: Float32Array, B: number, d: number, s: EnergyScratch, logits: Float32Array): void {
    pairwiseEnergyTs(this, fn, phi, psi, B, d, s, logits);
  }

  pairwiseEnergyBackward(
    fn: EnergyFn,
    phi: Float32Array,
    psi: Float32Array,
    G: Float32Array,
    B: number,
    d: number,
    s: EnergyScratch,
    dPhi: Float32Array,
    dPsi: Float32Array,
  ): void {
    pairwiseEnergyBackwardTs(this, fn, phi, psi, G, B, d, s, dPhi, dPsi);
  }

  contrastiveLoss(kind: ContrastiveLoss, logits: Float32Array, B: number, penalty: number, s: LossScratch, G: Float32Array): CriticLossStats {
    return contrastiveLossTs(kind, logits, B, penalty, s, G);
  }

  tanhGaussianSample(
    mean: Float32Array,
    raw: Float32Array,
    eps: Float32Array,
    B: number,
    A: number,
    x: Float32Array,
    a: Float32Array,
    logp: Float64Array,
    logDet: TanhLogDet,
  ): void {
    tanhGaussianSampleTs(mean, raw, eps, B, A, x, a, logp, logDet);
  }

  tanhGaussianBackward(
    raw: Float32Array,
    eps: Float32Array,
    a: Float32Array,
    dLogp: Float64Array,
    dA: Float32Array,
    B: number,
    A: number,
    dMean: Float32Array,
    dRaw: Float32Array,
    logDet: TanhLogDet,
    x: Float32Array,
  ): void {
    tanhGaussianBackwardTs(raw, eps, a, dLogp, dA, B, A, dMean, dRaw, logDet, x);
  }
}
