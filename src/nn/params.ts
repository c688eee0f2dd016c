// A network's parameters live in one flat Float32Array (and its gradients in another of the same
// layout), so Adam, zeroing and serialization are single passes. Each named tensor is a view.

export interface TensorInfo {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

export class ParamStore {
  readonly tensors: TensorInfo[] = [];
  private readonly byName = new Map<string, TensorInfo>();
  private total = 0;
  /** [numel]: all parameters, in declaration order. */
  data: Float32Array = new Float32Array(0);
  /** [numel]: gradients, same layout. */
  grad: Float32Array = new Float32Array(0);
  private frozen = false;

  /** Declares a tensor; returns its index. Must be called before finalize(). */
  declare(name: string, shape: readonly number[]): TensorInfo {
    if (this.frozen) throw new Error(`ParamStore: cannot declare "${name}" after finalize()`);
    if (this.byName.has(name)) throw new Error(`ParamStore: duplicate tensor name "${name}"`);
    const size = shape.reduce((a, b) => a * b, 1);
    const info: TensorInfo = { name, shape: [...shape], offset: this.total, size };
    this.tensors.push(info);
    this.byName.set(name, info);
    this.total += size;
    return info;
  }

  /**
   * Freezes the layout and allocates data and grad (hostArrays false: layout only, e.g. for
   * values that live on a GPU), with `alloc` (default: plain Float32Arrays; a network passes its
   * backend's allocFloat32, engine/alloc.ts).
   */
  finalize(hostArrays = true, alloc: (n: number) => Float32Array = (n) => new Float32Array(n)): void {
    this.frozen = true;
    if (!hostArrays) return;
    this.data = alloc(this.total);
    this.grad = alloc(this.total);
  }

  get numel(): number {
    return this.total;
  }

  info(name: string): TensorInfo {
    const t = this.byName.get(name);
    if (!t) throw new Error(`no parameter named "${name}"`);
    return t;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** View of a tensor's values. */
  view(t: TensorInfo): Float32Array {
    return this.data.subarray(t.offset, t.offset + t.size);
  }

  /** View of a tensor's gradient. */
  gradView(t: TensorInfo): Float32Array {
    return this.grad.subarray(t.offset, t.offset + t.size);
  }

  zeroGrad(): void {
    this.grad.fill(0);
  }
}
