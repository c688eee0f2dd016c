// Adam (SPEC §3: lr 3e-4, β = (0.9, 0.999), ε = 1e-8; no clipping, decay or schedule) over one
// ParamStore: one fused kernel call over the flat parameter array.
import { allocFloat32 } from "../engine/alloc.js";
import type { Backend } from "../engine/backend.js";
import type { ParamStore } from "./params.js";

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export const ADAM_DEFAULTS: AdamConfig = { lr: 3e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

export class Adam {
  readonly config: AdamConfig;
  /** [numel] first moment. */
  readonly m: Float32Array;
  /** [numel] second moment. */
  readonly v: Float32Array;
  /** Number of updates applied so far. */
  step = 0;

  constructor(
    private readonly backend: Backend,
    readonly params: ParamStore,
    config: Partial<AdamConfig> = {},
  ) {
    this.config = { ...ADAM_DEFAULTS, ...config };
    const { lr, beta1, beta2, eps } = this.config;
    if (!(lr > 0)) throw new Error(`Adam learning rate must be > 0, got ${lr}`);
    if (!(beta1 >= 0 && beta1 < 1)) throw new Error(`Adam beta1 must be in [0, 1), got ${beta1}`);
    if (!(beta2 >= 0 && beta2 < 1)) throw new Error(`Adam beta2 must be in [0, 1), got ${beta2}`);
    if (!(eps > 0)) throw new Error(`Adam eps must be > 0, got ${eps}`);
    this.m = allocFloat32(backend, params.numel);
    this.v = allocFloat32(backend, params.numel);
  }

  /** Applies one update from params.grad; `lr` overrides the configured rate for this step (schedules). */
  update(lr = this.config.lr): void {
    if (!(lr >= 0)) throw new Error(`Adam learning rate must be >= 0, got ${lr}`);
    this.step++;
    const { beta1, beta2, eps } = this.config;
    this.backend.adamStep(this.params.data, this.params.grad, this.m, this.v, this.params.numel, lr, beta1, beta2, eps, this.step);
  }
}
