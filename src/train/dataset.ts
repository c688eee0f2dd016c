// Offline datasets: what `fathom collect` writes and `fathom train --offline` learns from
// (docs/datasets.md). A dataset is a replay buffer's content in time order — N envs stepped in
// lockstep for T steps each — so the samplers read it exactly as they read the live buffer:
//
//   format fathom-dataset-v1 (safetensors; CRC-32 per tensor, like every Fathom file)
//   obs          [N, T, obsDim] F32   observation rows (state ++ commanded goal) in time order
//   actions      [N, T, A]      F32   the action taken in each row
//   episode_ids  [N, T]         I32   episode counter of each row (a new id after every reset)
//   metadata     format, env (id), spec (JSON: stateDim, goalDim, actionDim, obsDim, goalIndices,
//                episodeLength, successThreshold), collection (JSON: how it was collected, below),
//                stats (JSON: episodes started, steps at the goal), fathom (version)
//
// Collection: `policy` "random" (uniform actions) or "agent" (a run's agent: its exploration
// policy unless `deterministic`), the run, checkpoint and agent; seed, numEnvs, stepsPerEnv,
// episodeLength and frameSkip of the envs.
import { existsSync } from "node:fs";
import type { Agent } from "../agents/agent.js";
import { getEnvSpec } from "../envs/registry.js";
import type { EnvSpec, VecEnv } from "../envs/types.js";
import type { Tensor } from "../nn/safetensors.js";
import type { TrainConfig } from "./config.js";
import type { Rng } from "../random.js";
import { ReplayBuffer, type ReplayBufferState } from "../replay/buffer.js";
import { readSafetensorsFile, readSafetensorsHeader, writeSafetensorsFile } from "./checkpoint.js";

export const DATASET_FORMAT = "fathom-dataset-v1";

export interface DatasetCollection {
  policy: "random" | "agent";
  /** For an agent: its run directory, checkpoint and algorithm; whether it acted deterministically. */
  run?: string;
  checkpoint?: string;
  agent?: string;
  deterministic?: boolean;
  seed: number;
  numEnvs: number;
  stepsPerEnv: number;
  episodeLength: number;
  frameSkip?: number;
}

export interface DatasetStats {
  /** Episodes that start in the data (the first rows of each env count as one). */
  episodes: number;
  /** Fraction of steps whose reached state is within the success threshold of its goal. */
  stepsAtGoal: number;
}

/** What a dataset's header says (readable without loading its arrays). */
export interface DatasetInfo {
  path: string;
  env: string;
  numEnvs: number;
  stepsPerEnv: number;
  obsDim: number;
  actionDim: number;
  collection: DatasetCollection;
  stats: DatasetStats;
}

/** The spec fields a dataset records: loading checks them against the env's. */
function specRecord(s: EnvSpec) {
  return {
    stateDim: s.stateDim,
    goalDim: s.goalDim,
    actionDim: s.actionDim,
    obsDim: s.obsDim,
    goalIndices: [...s.goalIndices],
    episodeLength: s.episodeLength,
    successThreshold: s.successThreshold,
  };
}

/**
 * Steps `env` (already reset by the caller to `first`) for `stepsPerEnv` steps with the agent (or
 * uniform random actions when null), recording every row as the training loop's replay buffer does.
 */
export async function collectRows(
  env: VecEnv,
  first: Float32Array,
  stepsPerEnv: number,
  act: { agent: Agent; deterministic: boolean } | null,
  rng: Rng,
  onProgress?: (step: number) => void,
): Promise<{ buffer: ReplayBuffer; stats: DatasetStats }> {
  const N = env.numEnvs;
  const buffer = new ReplayBuffer({ numEnvs: N, obsDim: env.obsDim, actionDim: env.actionDim, capacity: stepsPerEnv, minFill: 1 });
  const obs = Float32Array.from(first); // [N, obsDim]
  const actions = new Float32Array(N * env.actionDim); // [N, A]
  const episodeId = new Int32Array(N); // [N]
  let episodes = N;
  let atGoal = 0;
  for (let t = 0; t < stepsPerEnv; t++) {
    if (act) act.agent.act(obs, N, actions, act.deterministic, rng);
    else for (let i = 0; i < actions.length; i++) actions[i] = 2 * rng.uniform() - 1;
    buffer.insert(obs, actions, episodeId);
    const r = await env.step(actions);
    for (let i = 0; i < N; i++) {
      atGoal += r.success[i];
      if (r.episodeId[i] !== episodeId[i] && t < stepsPerEnv - 1) episodes++;
    }
    obs.set(r.obs);
    episodeId.set(r.episodeId);
    onProgress?.(t + 1);
  }
  return { buffer, stats: { episodes, stepsAtGoal: atGoal / (N * stepsPerEnv) } };
}

/** Writes a dataset (never over an existing file). */
export function writeDataset(path: string, env: string, buffer: ReplayBuffer, collection: DatasetCollection, stats: DatasetStats, fathom: string): void {
  const s = buffer.state();
  if (s.size !== s.capacity || s.head !== 0) throw new Error(`writeDataset: the buffer must hold exactly its capacity in time order (size ${s.size}, capacity ${s.capacity}, head ${s.head})`);
  const tensors = new Map<string, Tensor>([
    ["obs", { dtype: "F32", shape: [s.numEnvs, s.capacity, s.obsDim], data: s.obs }],
    ["actions", { dtype: "F32", shape: [s.numEnvs, s.capacity, s.actionDim], data: s.actions }],
    ["episode_ids", { dtype: "I32", shape: [s.numEnvs, s.capacity], data: s.episodeIds }],
  ]);
  writeSafetensorsFile(path, tensors, {
    format: DATASET_FORMAT,
    env,
    spec: JSON.stringify(specRecord(getEnvSpec(env))),
    collection: JSON.stringify(collection),
    stats: JSON.stringify(stats),
    fathom,
  });
}

function notADataset(path: string, why: string): Error {
  return new Error(`${path} is not a Fathom dataset (${why}); write one with \`fathom collect\` (format: docs/datasets.md)`);
}

/** A dataset's header: env, shape, how it was collected. Errors name the file and what is wrong. */
export function readDatasetInfo(path: string): DatasetInfo {
  if (!existsSync(path)) throw new Error(`dataset ${path} does not exist; write one with \`fathom collect\``);
  const h = readSafetensorsHeader(path);
  const m = h.metadata;
  if (m.format !== DATASET_FORMAT) throw notADataset(path, `format ${JSON.stringify(m.format)}, expected ${DATASET_FORMAT}`);
  const obs = h.entries.find((e) => e.name === "obs");
  const act = h.entries.find((e) => e.name === "actions");
  const ids = h.entries.find((e) => e.name === "episode_ids");
  if (!obs || !act || !ids || obs.shape.length !== 3 || act.shape.length !== 3 || ids.shape.length !== 2) throw notADataset(path, "it lacks obs [N, T, obsDim], actions [N, T, A] or episode_ids [N, T]");
  const [N, T, obsDim] = obs.shape;
  if (act.shape[0] !== N || act.shape[1] !== T || ids.shape[0] !== N || ids.shape[1] !== T) throw notADataset(path, "its tensors disagree on N and T");
  let collection: DatasetCollection;
  let stats: DatasetStats;
  try {
    collection = JSON.parse(m.collection ?? "null");
    stats = JSON.parse(m.stats ?? "null");
  } catch (e) {
    throw notADataset(path, `its metadata cannot be read: ${(e as Error).message}`);
  }
  if (typeof m.env !== "string" || collection === null || stats === null) throw notADataset(path, "its metadata lacks env, collection or stats");
  return { path, env: m.env, numEnvs: N, stepsPerEnv: T, obsDim, actionDim: act.shape[2], collection, stats };
}

/**
 * Checks that the dataset at `path` was collected on `env` (same id, same dimensions); returns its
 * header. A dataset from another env is an error that says which env it is from.
 */
export function checkDatasetEnv(path: string, env: string): DatasetInfo {
  const info = readDatasetInfo(path);
  if (info.env !== env) {
    throw new Error(
      `dataset ${path} was collected on ${info.env}, not ${env}: an offline run trains and evaluates on the env its data comes from ` +
        `(give --env ${info.env}, or collect a dataset on ${env} with \`fathom collect --env ${env}\`)`,
    );
  }
  const spec = getEnvSpec(env);
  if (info.obsDim !== spec.obsDim || info.actionDim !== spec.actionDim) {
    throw new Error(`dataset ${path} has observations of ${info.obsDim} and actions of ${info.actionDim} values, but ${env} has ${spec.obsDim} and ${spec.actionDim}: it was written by a different version of the env`);
  }
  return info;
}

/** Loads a dataset (checked against `env`) into a replay buffer holding exactly its rows. */
export function loadDataset(path: string, env: string): { buffer: ReplayBuffer; info: DatasetInfo } {
  const info = checkDatasetEnv(path, env);
  const { tensors } = readSafetensorsFile(path);
  const t = (k: string) => tensors.get(k)!.data;
  const buffer = new ReplayBuffer({ numEnvs: info.numEnvs, obsDim: info.obsDim, actionDim: info.actionDim, capacity: info.stepsPerEnv, minFill: 1 });
  const state: ReplayBufferState = {
    numEnvs: info.numEnvs,
    capacity: info.stepsPerEnv,
    obsDim: info.obsDim,
    actionDim: info.actionDim,
    head: 0,
    size: info.stepsPerEnv,
    obs: t("obs") as Float32Array,
    actions: t("actions") as Float32Array,
    episodeIds: t("episode_ids") as Int32Array,
  };
  buffer.restore(state);
  return { buffer, info };
}

/** Keys of the online loop that an offline run does not use (the dataset fixes its data). */
export const ONLINE_ONLY_KEYS = ["numEnvs", "unrollLength", "totalEnvSteps", "minReplaySize", "maxReplaySize", "prefillPolicy", "referenceResetBug"] as const;

/**
 * An offline config as the loop runs it: numEnvs and maxReplaySize (= minReplaySize) are the
 * dataset's envs and rows per env, totalEnvSteps the env steps behind the data. A config without
 * `offline` is returned as it is. Checks the dataset against the env.
 */
export function offlineConfig<C extends TrainConfig>(c: C): C {
  if (c.offline === undefined) return c;
  const info = checkDatasetEnv(c.offline, c.env);
  return { ...c, numEnvs: info.numEnvs, maxReplaySize: info.stepsPerEnv, minReplaySize: info.stepsPerEnv, totalEnvSteps: info.numEnvs * info.stepsPerEnv };
}

/** An option given with, or without, --offline that does not apply there; null when there is none. */
export function offlineOptionIssue(offline: boolean, fromFlags: readonly string[]): string | null {
  const flag = (k: string) => `--${k.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)}`;
  if (offline) {
    const bad = ONLINE_ONLY_KEYS.filter((k) => fromFlags.includes(k));
    if (bad.length > 0) {
      return `${bad.map(flag).join(", ")} ${bad.length === 1 ? "does" : "do"} not apply with --offline: the dataset fixes the data (its envs and rows per env; no env steps are taken)`;
    }
  } else if (fromFlags.includes("offlineSteps")) {
    return "--offline-steps applies only with --offline <dataset>";
  }
  return null;
}
