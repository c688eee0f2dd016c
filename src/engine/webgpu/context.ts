/// <reference types="@webgpu/types" />
// The WebGPU device layer (DESIGN §3, issue 16): one adapter and device, device-resident float32
// buffers, WGSL kernels generated per binding pattern, and batched command encoding. Browser-clean:
// the caller hands in a `GPU` (navigator.gpu in a page, the `webgpu` package's create() in Node).
//
// A kernel names its operands (views into device buffers: buffer + float offset + length). Every
// distinct buffer among a dispatch's operands becomes one storage binding (read_write when any
// operand in it is written), bound as a window around the operands it holds, and each operand is
// addressed by a float offset passed as a uniform. So operands may alias (y may alias x) and many
// views into one buffer (a network's flat parameters) cost one binding, without WebGPU's
// writable-aliasing rule or its 256-byte binding-offset alignment getting in the way.
//
// Dispatches are recorded, not run: `flush()` encodes everything pending into one compute pass
// and one submit; `read()` flushes and maps. A `Program` records a fixed sequence once (uniforms
// and bind groups created once) and replays it with one pass per run: a depth-1024 update is one
// submission. Values that change per run live in device buffers the caller writes.

// GPUBufferUsage / GPUMapMode / GPUShaderStage bits (fixed by the WebGPU spec; Node has no globals).
const MAP_READ = 0x1;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const UNIFORM = 0x40;
const STORAGE = 0x80;
const MAP_MODE_READ = 0x1;
const STAGE_COMPUTE = 0x4;

/** Bytes of uniform data one dispatch may use (the largest minUniformBufferOffsetAlignment). */
const UNIFORM_SLOT = 256;
const UNIFORM_CHUNK = 64 * 1024;
/** Workgroups per dimension above which dispatches fold into a second dimension. */
const MAX_GROUPS_X = 65535;

/** A device buffer of float32 values. */
export class GpuBuf {
  constructor(
    readonly buffer: GPUBuffer,
    /** Capacity in floats. */
    readonly length: number,
    readonly label: string,
  ) {}
  destroy(): void {
    this.buffer.destroy();
  }
}

/** A range of a device buffer, in floats. */
export interface GpuView {
  readonly buf: GpuBuf;
  readonly off: number;
  readonly len: number;
}

/** View of `len` floats of `buf` from float `off` (whole buffer by default). */
export function gview(buf: GpuBuf, off = 0, len = buf.length - off): GpuView {
  if (!(Number.isInteger(off) && Number.isInteger(len) && off >= 0 && len >= 0 && off + len <= buf.length)) {
    throw new RangeError(`view [${off}, ${off + len}) is outside buffer "${buf.label}" of ${buf.length} floats`);
  }
  return { buf, off, len };
}

/** A sub-range of a view (floats, relative to the view). */
export function sub(v: GpuView, off: number, len: number): GpuView {
  if (off < 0 || len < 0 || off + len > v.len) throw new RangeError(`sub-view [${off}, ${off + len}) is outside a view of ${v.len} floats`);
  return { buf: v.buf, off: v.off + off, len };
}

/** What the adapter is, for the log and for deciding whether it is a software rasteriser. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (lavapipe/llvmpipe, SwiftShader, WARP) or a fallback adapter. */
  software: boolean;
  features: string[];
  limits: Record<string, number>;
}

const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|software|warp|microsoft basic render/i;

function summarize(adapter: GPUAdapter): AdapterSummary {
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const vendor = info?.vendor ?? "";
  const architecture = info?.architecture ?? "";
  const device = info?.device ?? "";
  const description = info?.description ?? "";
  const fallback = (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const software = fallback || architecture === "software" || SOFTWARE_NAMES.test(`${architecture} ${device} ${description}`); // Chromium: architecture "swiftshader"
  const limits: Record<string, number> = {};
  for (const k in adapter.limits) {
    const v = (adapter.limits as unknown as Record<string, unknown>)[k];
    if (typeof v === "number") limits[k] = v;
  }
  return { vendor, architecture, device, description, software, features: [...adapter.features].sort(), limits };
}

/** The adapter's name (its description, else vendor, architecture and device). */
export function adapterName(a: AdapterSummary): string {
  return a.description || [a.vendor, a.architecture, a.device].filter((s) => s).join(" ") || "unnamed adapter";
}

/** The two limits that bound Fathom's buffers. */
export type BufferLimit = "maxStorageBufferBindingSize" | "maxBufferSize";

/** A check of one operand against a buffer limit (WebGpuContext.requireLimit, or adapterLimitCheck before a device exists). */
export type LimitCheck = (limit: BufferLimit, what: string, bytes: number, advice: Advice) => void;

/** What to change, or a function of the bytes the limit allows that says it. */
export type Advice = string | ((allowedBytes: number) => string);

/**
 * Throws when `bytes` exceed `allowed` (the adapter's `limit`), naming the limit, the size needed
 * and `advice` (what to change).
 */
export function requireBufferLimit(adapter: string, limit: BufferLimit, allowed: number, what: string, bytes: number, advice: Advice): void {
  if (bytes <= allowed) return;
  const per = limit === "maxBufferSize" ? "per buffer" : "per storage binding (what one kernel reads or writes of a buffer at once)";
  const todo = typeof advice === "string" ? advice : advice(allowed);
  throw new Error(`${what}: ${formatSize(bytes)} needed, but this WebGPU adapter (${adapter}) allows ${formatSize(allowed)} ${per} (${limit}): ${todo}`);
}

/** requireLimit against an adapter's limits (the device Fathom requests gets exactly these two). */
export function adapterLimitCheck(a: AdapterSummary): LimitCheck {
  return (limit, what, bytes, advice) => requireBufferLimit(adapterName(a), limit, a.limits[limit] ?? Number.POSITIVE_INFINITY, what, bytes, advice);
}

/** "128 MiB (134217728 bytes)". */
function formatSize(bytes: number): string {
  const mib = bytes / 2 ** 20;
  return `${mib.toFixed(mib >= 1 ? 1 : 3)} MiB (${bytes} bytes)`;
}

/** One line for logs: name, software or not, the limits that size Fathom's buffers. */
export function describeAdapter(a: AdapterSummary): string {
  const name = adapterName(a);
  const mib = (n: number | undefined) => (n === undefined ? "?" : `${Math.round(n / 2 ** 20)} MiB`);
  return (
    `${name}${a.software ? " [software adapter: a CPU implementation, slow]" : ""}; ` +
    `maxStorageBufferBindingSize ${mib(a.limits.maxStorageBufferBindingSize)}, maxBufferSize ${mib(a.limits.maxBufferSize)}, ` +
    `workgroup storage ${a.limits.maxComputeWorkgroupStorageSize ?? "?"} B; features: ${a.features.join(", ") || "none"}`
  );
}

/** Storage type of one kernel scalar (a uniform field). */
export type ScalarType = "u32" | "f32" | "i32";

/**
 * A compute kernel. `ops` are its storage operands (float arrays); the body reads operand x with
 * `x_ld(i)` and writes with `x_st(i, v)` (index relative to the operand's view), and reads
 * scalars as `u.name`. The body defines `@compute @workgroup_size(...) fn main(...)`; `lin(wid,
 * nwg)` gives the linear workgroup index of a folded dispatch.
 */
export interface KernelDef {
  readonly name: string;
  readonly ops: readonly { readonly name: string; readonly write?: boolean }[];
  readonly scalars: readonly (readonly [string, ScalarType])[];
  readonly body: string;
}

export type Operands = Readonly<Record<string, GpuView>>;
export type Scalars = Readonly<Record<string, number>>;

interface Encoded {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  groups: [number, number, number];
}

/** Uniform slots in 64 KiB chunks with a CPU mirror; dirty chunks are written before a submit. */
class UniformArena {
  private readonly chunks: { buffer: GPUBuffer; data: ArrayBuffer; used: number; dirty: boolean }[] = [];
  private cur = 0;
  constructor(private readonly device: GPUDevice) {}
  alloc(): { buffer: GPUBuffer; offset: number; view: DataView } {
    let c = this.chunks[this.cur];
    if (c && c.used + UNIFORM_SLOT > UNIFORM_CHUNK) {
      this.cur++;
      c = this.chunks[this.cur];
    }
    if (!c) {
      c = { buffer: this.device.createBuffer({ size: UNIFORM_CHUNK, usage: UNIFORM | COPY_DST, label: "fathom uniforms" }), data: new ArrayBuffer(UNIFORM_CHUNK), used: 0, dirty: false };
      this.chunks.push(c);
      this.cur = this.chunks.length - 1;
    }
    const offset = c.used;
    c.used += UNIFORM_SLOT;
    c.dirty = true;
    return { buffer: c.buffer, offset, view: new DataView(c.data, offset, UNIFORM_SLOT) };
  }
  upload(queue: GPUQueue): void {
    for (const c of this.chunks) {
      if (!c.dirty) continue;
      queue.writeBuffer(c.buffer, 0, c.data, 0, c.used);
      c.dirty = false;
    }
  }
  /** Forget every slot (transient arenas, after a submit: the queue orders later writes after it). */
  reset(): void {
    for (const c of this.chunks) c.used = 0;
    this.cur = 0;
  }
  destroy(): void {
    for (const c of this.chunks) c.buffer.destroy();
  }
}

/** A recorded sequence of dispatches, replayed by run() in one compute pass. */
export class Program {
  constructor(
    private readonly ctx: WebGpuContext,
    private readonly items: Encoded[],
    private readonly uniforms: UniformArena,
    readonly label: string,
  ) {}
  get dispatches(): number {
    return this.items.length;
  }
  /** Queues the whole program (after anything pending); runs at the next flush or read. */
  run(): void {
    this.ctx.enqueue(this.items);
  }
  destroy(): void {
    this.uniforms.destroy();
  }
}

export interface ContextOptions {
  /** Use a software adapter (lavapipe, SwiftShader) if that is all there is (default true). */
  allowSoftware?: boolean;
  powerPreference?: GPUPowerPreference;
}

/** Sum of `bytes` rounded up to 4 (buffer copies and sizes move whole 4-byte words). */
const up4 = (n: number) => Math.ceil(n / 4) * 4;

export class WebGpuContext {
  readonly adapter: AdapterSummary;
  private readonly pipelines = new Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout; slotsWritable: boolean[] }>();
  private readonly transient: UniformArena;
  private pending: Encoded[] = [];
  private recording: { items: Encoded[]; uniforms: UniformArena } | null = null;
  private staging: GPUBuffer | null = null;
  private stagingBytes = 0;
  private readonly storageAlign: number;
  private readonly maxBinding: number;
  /**
   * The most floats one operand of an element-wise kernel spans in one dispatch: kernels.ts splits
   * longer element-wise work (Adam, zeroing, the gradient norm over a large network) into
   * dispatches of at most this many, so no binding exceeds maxStorageBufferBindingSize. Set from
   * the device's limit; tests lower it to exercise the split.
   */
  splitFloats: number;
  /** Bytes readMany() reads back per round at most (more is read in several rounds); tests lower it. */
  readbackBytes = 256 * 2 ** 20;
  private lost: string | null = null;
  private errors: string[] = [];
  /** Dispatches submitted so far (for benchmarks and tests). */
  dispatchCount = 0;
  submitCount = 0;

  private constructor(
    readonly device: GPUDevice,
    adapter: GPUAdapter,
  ) {
    this.adapter = summarize(adapter);
    this.transient = new UniformArena(device);
    this.storageAlign = device.limits.minStorageBufferOffsetAlignment;
    this.maxBinding = device.limits.maxStorageBufferBindingSize;
    const alignF = this.storageAlign / 4;
    this.splitFloats = Math.max(256, Math.floor((this.maxBinding / 4 - alignF) / 256) * 256);
    device.lost.then((info) => {
      this.lost = `${info.reason}: ${info.message}`;
    });
    device.addEventListener?.("uncapturederror", (ev) => {
      this.errors.push((ev as GPUUncapturedErrorEvent).error.message);
    });
  }

  /**
   * The adapter `gpu` offers and a device with the adapter's largest buffer limits. Throws a
   * clear error when there is no adapter, or only a software one and allowSoftware is false.
   */
  static async create(gpu: GPU | undefined, options: ContextOptions = {}): Promise<WebGpuContext> {
    if (!gpu) throw new Error("WebGPU is not available here (no navigator.gpu, or the `webgpu` package could not load)");
    const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? "high-performance" });
    if (!adapter) {
      throw new Error(
        "no WebGPU adapter: the system has no GPU driver WebGPU can use (on Linux Dawn needs Vulkan: a GPU's Vulkan driver, or Mesa's lavapipe ≥ 24, e.g. mesa-vulkan-drivers from bookworm-backports on Debian 12)",
      );
    }
    const summary = summarize(adapter);
    if (summary.software && options.allowSoftware === false) {
      throw new Error(`the only WebGPU adapter is a software one (${describeAdapter(summary)})`);
    }
    const L = adapter.limits;
    const device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
        maxBufferSize: L.maxBufferSize,
        maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: Math.min(L.maxComputeInvocationsPerWorkgroup, 1024),
        maxStorageBuffersPerShaderStage: L.maxStorageBuffersPerShaderStage,
      },
    });
    return new WebGpuContext(device, adapter);
  }

  private check(): void {
    if (this.lost !== null) throw new Error(`the WebGPU device was lost (${this.lost})`);
    if (this.errors.length > 0) {
      const e = this.errors.splice(0);
      throw new Error(`WebGPU error: ${e.join("; ")}`);
    }
  }

  /**
   * Throws an error that names the limit, the size needed and `advice` (what to change) when `bytes`
   * exceed the device's `limit`: maxStorageBufferBindingSize for what one kernel binds at once,
   * maxBufferSize for one buffer. Callers check their largest operands up front with it, so a
   * configuration too large for the adapter stops before anything is allocated.
   */
  requireLimit(limit: BufferLimit, what: string, bytes: number, advice: Advice): void {
    requireBufferLimit(adapterName(this.adapter), limit, limit === "maxBufferSize" ? this.device.limits.maxBufferSize : this.maxBinding, what, bytes, advice);
  }

  /** A zero-filled device buffer of `floats` values (at least 4). */
  createBuffer(floats: number, label: string): GpuBuf {
    if (!Number.isInteger(floats) || floats < 0) throw new Error(`buffer "${label}": size must be an integer >= 0, got ${floats}`);
    const bytes = Math.max(16, up4(floats * 4));
    this.requireLimit("maxBufferSize", `buffer "${label}" (${floats} floats)`, bytes, "use a smaller batch size, network width or depth");
    const buffer = this.device.createBuffer({ size: bytes, usage: STORAGE | COPY_SRC | COPY_DST, label });
    return new GpuBuf(buffer, Math.max(floats, 4), label);
  }

  /** Writes `data` into the view (queued before any later submit). */
  write(v: GpuView, data: Float32Array): void {
    if (data.length > v.len) throw new RangeError(`writing ${data.length} floats into a view of ${v.len}`);
    if (data.length === 0) return;
    if (!(data.buffer instanceof ArrayBuffer)) data = data.slice(); // a SharedArrayBuffer: Dawn's writeBuffer takes only ArrayBuffers
    this.flush(); // writes are ordered after what was recorded before them
    this.device.queue.writeBuffer(v.buf.buffer, v.off * 4, data.buffer, data.byteOffset, data.length * 4);
  }

  // ───────────── kernels ─────────────

  private pipelineFor(k: KernelDef, slotOf: number[], slotWritable: boolean[]): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
    const key = `${k.name}|${slotOf.join(",")}|${slotWritable.map((w) => (w ? "w" : "r")).join("")}`;
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const code = generateWgsl(k, slotOf, slotWritable);
    const module = this.device.createShaderModule({ code, label: k.name });
    const entries: GPUBindGroupLayoutEntry[] = [{ binding: 0, visibility: STAGE_COMPUTE, buffer: { type: "uniform" } }];
    slotWritable.forEach((w, s) => {
      entries.push({ binding: s + 1, visibility: STAGE_COMPUTE, buffer: { type: w ? "storage" : "read-only-storage" } });
    });
    const layout = this.device.createBindGroupLayout({ entries, label: k.name });
    const pipeline = this.device.createComputePipeline({
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: "main" },
      label: k.name,
    });
    const entry = { pipeline, layout, slotsWritable: slotWritable };
    this.pipelines.set(key, entry);
    return entry;
  }

  /**
   * Records one dispatch of `k` over `groups` workgroups (a count, folded into x/y when above
   * 65535, or explicit [x, y]). Runs at the next flush (or, while recording, is added to the program).
   */
  dispatch(k: KernelDef, ops: Operands, scalars: Scalars, groups: number | [number, number]): void {
    const [gx, gy] = typeof groups === "number" ? foldGroups(groups) : groups;
    if (gx === 0 || gy === 0) return;
    // distinct buffers → slots
    const bufs: GpuBuf[] = [];
    const slotOf: number[] = [];
    const lo: number[] = [];
    const hi: number[] = [];
    const writable: boolean[] = [];
    for (const op of k.ops) {
      const v = ops[op.name];
      if (!v) throw new Error(`kernel ${k.name}: operand "${op.name}" missing`);
      let s = bufs.indexOf(v.buf);
      if (s < 0) {
        s = bufs.length;
        bufs.push(v.buf);
        lo.push(v.off);
        hi.push(v.off + v.len);
        writable.push(false);
      } else {
        lo[s] = Math.min(lo[s], v.off);
        hi[s] = Math.max(hi[s], v.off + v.len);
      }
      if (op.write) writable[s] = true;
      slotOf.push(s);
    }
    const { pipeline, layout } = this.pipelineFor(k, slotOf, writable);
    const arena = this.recording ? this.recording.uniforms : this.transient;
    const slot = arena.alloc();
    const alignF = this.storageAlign / 4;
    const winStart = bufs.map((_, s) => Math.floor(lo[s] / alignF) * alignF);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: slot.buffer, offset: slot.offset, size: UNIFORM_SLOT } }];
    for (let s = 0; s < bufs.length; s++) {
      const size = Math.min(Math.max(4, (hi[s] - winStart[s]) * 4), bufs[s].buffer.size - winStart[s] * 4);
      this.requireLimit("maxStorageBufferBindingSize", `kernel ${k.name} on buffer "${bufs[s].label}"`, size, "use a smaller batch size or network width");
      entries.push({ binding: s + 1, resource: { buffer: bufs[s].buffer, offset: winStart[s] * 4, size } });
    }
    // uniforms: one u32 offset per operand, then the scalars (4 bytes each)
    const dv = slot.view;
    k.ops.forEach((op, i) => {
      dv.setUint32(i * 4, ops[op.name].off - winStart[slotOf[i]], true);
    });
    let at = k.ops.length * 4;
    for (const [name, type] of k.scalars) {
      const val = scalars[name];
      if (val === undefined || !Number.isFinite(val)) throw new Error(`kernel ${k.name}: scalar "${name}" is ${val}`);
      if (type === "f32") dv.setFloat32(at, val, true);
      else if (type === "u32") dv.setUint32(at, val, true);
      else dv.setInt32(at, val, true);
      at += 4;
    }
    if (at > UNIFORM_SLOT) throw new Error(`kernel ${k.name}: too many uniforms`);
    const bindGroup = this.device.createBindGroup({ layout, entries, label: k.name });
    const enc: Encoded = { pipeline, bindGroup, groups: [gx, gy, 1] };
    if (this.recording) this.recording.items.push(enc);
    else this.pending.push(enc);
  }

  /** Starts recording a Program: dispatches from now until endProgram() go into it. */
  beginProgram(): void {
    if (this.recording) throw new Error("beginProgram: already recording");
    this.flush();
    this.recording = { items: [], uniforms: new UniformArena(this.device) };
  }

  endProgram(label: string): Program {
    const r = this.recording;
    if (!r) throw new Error("endProgram without beginProgram");
    this.recording = null;
    r.uniforms.upload(this.device.queue);
    return new Program(this, r.items, r.uniforms, label);
  }

  /** @internal Queues recorded dispatches (Program.run). */
  enqueue(items: Encoded[]): void {
    if (this.recording) throw new Error("a Program cannot run while another is being recorded");
    for (const it of items) this.pending.push(it);
  }

  /** Encodes every pending dispatch into one compute pass and submits it. */
  flush(): void {
    if (this.recording || this.pending.length === 0) return;
    this.check();
    this.transient.upload(this.device.queue);
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (const it of this.pending) {
      pass.setPipeline(it.pipeline);
      pass.setBindGroup(0, it.bindGroup);
      pass.dispatchWorkgroups(it.groups[0], it.groups[1], it.groups[2]);
    }
    pass.end();
    this.device.queue.submit([encoder.finish()]);
    this.dispatchCount += this.pending.length;
    this.submitCount++;
    this.pending = [];
    this.transient.reset();
  }

  /** Reads several views back (one submit, one map); runs everything pending first. */
  async readMany(views: readonly GpuView[], outs?: Float32Array[]): Promise<Float32Array[]> {
    this.flush();
    const results = outs ?? views.map((v) => new Float32Array(v.len));
    // pieces of at most `cap` bytes (a large network's state is read in several rounds through a
    // staging buffer of at most readbackBytes, never one buffer over maxBufferSize)
    const cap = Math.max(16, Math.floor(Math.min(this.readbackBytes, this.device.limits.maxBufferSize) / 16) * 16);
    type Piece = { view: number; from: number; len: number }; // floats
    let round: Piece[] = [];
    let bytes = 0;
    const rounds: { pieces: Piece[]; bytes: number }[] = [];
    views.forEach((v, i) => {
      for (let from = 0; from < v.len; ) {
        const room = (cap - bytes) / 4;
        if (room < 4) {
          rounds.push({ pieces: round, bytes });
          round = [];
          bytes = 0;
          continue;
        }
        const len = Math.min(v.len - from, Math.floor(room / 4) * 4);
        round.push({ view: i, from, len });
        bytes += up4(len * 4);
        from += len;
      }
    });
    if (round.length > 0) rounds.push({ pieces: round, bytes });
    for (const r of rounds) {
      if (!this.staging || this.stagingBytes < r.bytes) {
        this.staging?.destroy();
        this.stagingBytes = Math.min(cap, Math.max(r.bytes, 2 * this.stagingBytes));
        this.staging = this.device.createBuffer({ size: this.stagingBytes, usage: MAP_READ | COPY_DST, label: "fathom readback" });
      }
      const staging = this.staging;
      const encoder = this.device.createCommandEncoder();
      let at = 0;
      for (const p of r.pieces) {
        const v = views[p.view];
        encoder.copyBufferToBuffer(v.buf.buffer, (v.off + p.from) * 4, staging, at, p.len * 4);
        at += up4(p.len * 4);
      }
      this.device.queue.submit([encoder.finish()]);
      this.submitCount++;
      await staging.mapAsync(MAP_MODE_READ, 0, r.bytes);
      this.check();
      const mapped = new Float32Array(staging.getMappedRange(0, r.bytes));
      at = 0;
      for (const p of r.pieces) {
        results[p.view].set(mapped.subarray(at / 4, at / 4 + p.len), p.from);
        at += up4(p.len * 4);
      }
      staging.unmap();
    }
    return results;
  }

  async read(v: GpuView, out?: Float32Array): Promise<Float32Array> {
    const [r] = await this.readMany([v], out ? [out] : undefined);
    return r;
  }

  /** Waits for everything submitted to finish (flushes first). */
  async finish(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.check();
  }

  destroy(): void {
    this.staging?.destroy();
    this.transient.destroy();
    this.device.destroy();
  }
}

function foldGroups(n: number): [number, number] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`workgroup count must be an integer >= 0, got ${n}`);
  if (n <= MAX_GROUPS_X) return [n, 1];
  const y = Math.ceil(n / MAX_GROUPS_X);
  if (y > MAX_GROUPS_X) throw new Error(`too many workgroups (${n})`);
  return [MAX_GROUPS_X, y];
}

/** The WGSL module of kernel k for one binding pattern (operand i in slot slotOf[i]). */
export function generateWgsl(k: KernelDef, slotOf: readonly number[], slotWritable: readonly boolean[]): string {
  const lines: string[] = [];
  const fields = [...k.ops.map((o) => `o_${o.name}: u32`), ...k.scalars.map(([n, t]) => `${n}: ${t}`)];
  lines.push(`struct U { ${fields.join(", ")} }`);
  lines.push("@group(0) @binding(0) var<uniform> u: U;");
  slotWritable.forEach((w, s) => {
    lines.push(`@group(0) @binding(${s + 1}) var<storage, ${w ? "read_write" : "read"}> s${s}: array<f32>;`);
  });
  k.ops.forEach((o, i) => {
    const s = slotOf[i];
    lines.push(`fn ${o.name}_ld(i: u32) -> f32 { return s${s}[u.o_${o.name} + i]; }`);
    if (o.write) lines.push(`fn ${o.name}_st(i: u32, v: f32) { s${s}[u.o_${o.name} + i] = v; }`);
  });
  lines.push("fn lin(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.y * nwg.x + wid.x; }");
  lines.push(k.body);
  return lines.join("\n");
}
