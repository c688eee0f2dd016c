// The reference backend: plain TypeScript, written for obviousness, not speed. It is the oracle
// every native kernel is tested against. Accumulations use float64 locals. Precision "bf16" is
// emulated exactly: operands rounded to bf16, then multiplied and summed in float64. Its
// composite kernels are the shared TypeScript ones (engine/composite.ts) over this backend's GEMM.
import { type Backend, bf16RowLength, type Kernel } from "../backend.js";
import {
  contrastiveLossTs,
  pairwiseEnergyBackwardTs,
  pairwiseEnergyTs,
  sumSquaresTs,
  tanhGaussianBackwardTs,
  tanhGaussianSampleTs,
  zeroDenseParamGrads,
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

/** The bf16 bits (round to nearest even, as vcvtneps2bf16) of a float32 value. */
export function bf16Bits(x: number): number {
  f32[0] = roundToBf16(x);
  const hi = u32[0] >>> 16;
  return Number.isNaN(x) ? hi | 0x40 : hi; // a NaN stays a (quiet) NaN, whatever its payload
}

/** Throws unless `a` is usable as Bf16Rows [rows, bf16RowLength(cols)] with precision bf16. */
function checkBf16Rows(fn: string, name: string, a: Uint16Array, rows: number, cols: number, precision: string): void {
  if (precision !== "bf16") throw new TypeError(`${fn}: ${name} as bf16 rows (a Uint16Array) needs precision "bf16", got "${precision}"`);
  const need = rows * bf16RowLength(cols);
  if (a.length < need) throw new RangeError(`${fn}: ${name} has ${a.length} bf16 values but needs ${need} ([rows, cols rounded up to even])`);
}

/** x as float32 rows [rows, cols]: itself, or the values of Bf16Rows (exact: bf16 ⊂ float32). */
function floatRows(x: Float32Array | Uint16Array, rows: number, cols: number, precision: string, fn: string, name: string): Float32Array {
  if (x instanceof Float32Array) return x;
  checkBf16Rows(fn, name, x, rows, cols, precision);
  const ld = bf16RowLength(cols);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < cols; j++) {
      u32[0] = x[r * ld + j] << 16;
      out[r * cols + j] = f32[0];
    }
  return out;
}

/** Writes float32 rows [rows, cols] into Bf16Rows (rounded to nearest even; pad halves 0). */
function toBf16Rows(y: Float32Array, out: Uint16Array, rows: number, cols: number): void {
  const ld = bf16RowLength(cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) out[r * ld + j] = bf16Bits(y[r * cols + j]);
    if (ld !== cols) out[r * ld + cols] = 0;
  }
}

export class RefBackend implements Backend {
  readonly name = "ref";
  readonly threads = 1;

  describe(): string {
    return "ref (pure TypeScript, 1 thread)";
  }

  bf16Unavailable(): string | null {
    return null; // emulated (roundToBf16)
  }

  gemm: Kernel<"gemm"> = (transA, transB, m, n, k, alpha, a, b, beta, c, precision = "fp32") => {
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
  };

  biasAdd: Kernel<"biasAdd"> = (x, bias, rows, cols) => {
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) x[r * cols + j] += bias[j];
  };

  biasBackward: Kernel<"biasBackward"> = (dy, db, rows, cols) => {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += dy[r * cols + j];
      db[j] += s;
    }
  };

  layerNormForward: Kernel<"layerNormForward"> = (x, gamma, beta, y, mean, rstd, rows, cols, eps) => {
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
  };

  layerNormBackward: Kernel<"layerNormBackward"> = (dy, x, mean, rstd, gamma, dx, dgamma, dbeta, rows, cols) => {
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
  };

  swishForward: Kernel<"swishForward"> = (x, y, n) => {
    for (let i = 0; i < n; i++) y[i] = x[i] * sigmoid(x[i]);
  };

  swishBackward: Kernel<"swishBackward"> = (dy, x, dx, n) => {
    for (let i = 0; i < n; i++) {
      const s = sigmoid(x[i]);
      dx[i] = dy[i] * (s * (1 + x[i] * (1 - s)));
    }
  };

  readonly bf16Activations = true;

  denseLnSwishForward: Kernel<"denseLnSwishForward"> = (x, w, b, gamma, beta, z, mean, rstd, y, rows, inDim, outDim, eps, precision = "fp32") => {
    const xf = floatRows(x, rows, inDim, precision, "denseLnSwishForward", "x");
    this.gemm(false, false, rows, outDim, inDim, 1, xf, w, 0, z, precision);
    this.biasAdd(z, b, rows, outDim);
    const yf = y instanceof Float32Array ? y : new Float32Array(rows * outDim);
    if (!(y instanceof Float32Array)) checkBf16Rows("denseLnSwishForward", "y", y, rows, outDim, precision);
    this.layerNormForward(z, gamma, beta, yf, mean, rstd, rows, outDim, eps);
    this.swishForward(yf, yf, rows * outDim);
    if (!(y instanceof Float32Array)) toBf16Rows(yf, y, rows, outDim);
  };

  denseLnSwishBackward: Kernel<"denseLnSwishBackward"> = (dy, x, w, gamma, beta, z, mean, rstd, dx, dw, db, dgamma, dbeta, rows, inDim, outDim, precision = "fp32", overwrite = false) => {
    if (overwrite) zeroDenseParamGrads(null, db, dgamma, dbeta, inDim, outDim); // dW: β = 0 below
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
    if (dw) this.gemm(true, false, inDim, outDim, rows, 1, floatRows(x, rows, inDim, precision, "denseLnSwishBackward", "x"), dy, overwrite ? 0 : 1, dw, precision); // dW (+)= xᵀ·dz
    if (dx) this.gemm(false, true, rows, inDim, outDim, 1, dy, w, 0, dx, precision); // dx = dz·Wᵀ
  };

  adamStep: Kernel<"adamStep"> = (param, grad, m, v, n, lr, beta1, beta2, eps, step) => {
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
  };

  add: Kernel<"add"> = (a, b, out, n) => {
    for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
  };

  // the composite kernels: the shared TypeScript ones over this backend's GEMM
  sumSquares: Kernel<"sumSquares"> = sumSquaresTs;
  pairwiseEnergy: Kernel<"pairwiseEnergy"> = (fn, phi, psi, B, d, s, logits) => pairwiseEnergyTs(this, fn, phi, psi, B, d, s, logits);
  pairwiseEnergyBackward: Kernel<"pairwiseEnergyBackward"> = (fn, phi, psi, dLogits, B, d, s, dPhi, dPsi) =>
    pairwiseEnergyBackwardTs(this, fn, phi, psi, dLogits, B, d, s, dPhi, dPsi);
  contrastiveLoss: Kernel<"contrastiveLoss"> = contrastiveLossTs;
  tanhGaussianSample: Kernel<"tanhGaussianSample"> = tanhGaussianSampleTs;
  tanhGaussianBackward: Kernel<"tanhGaussianBackward"> = tanhGaussianBackwardTs;
}
