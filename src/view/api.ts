// Types of the viewer's HTTP API (./server.ts), shared with the page (src/view/web/*.js checks
// its JSDoc against them). Node-free, so the page's type check can read it.

/** One line of metrics.jsonl: metric name → value. */
export type MetricsRow = Record<string, number>;

/** GET /api/info */
export interface ApiInfo {
  fathom: string;
  defaults: { seed: number; episodes: number };
}

/** What the page needs to know of a run (GET /api/runs). */
export interface RunInfo {
  index: number;
  name: string;
  dir: string;
  env: string;
  /** The env the paper's protocol evaluates on (the replay's default) and the far-goal one, if any. */
  evalEnv: string;
  farEnv: string | null;
  /** The run's algorithm (`--agent`). */
  agent: string;
  actorDepth: number;
  /** null for an agent without a critic (gcbc). */
  criticDepth: number | null;
  actorWidth: number;
  criticWidth: number | null;
  seed: number;
  episodeLength: number;
  /** Seeds of one group are drawn together: same env, agent, depths and widths. */
  group: string;
  /** summary.json's status, or "running or interrupted" when it has none yet. */
  status: string;
  /** Agent checkpoints, newest first. */
  checkpoints: { name: string; envSteps: number }[];
  /** The checkpoint the user named on the command line (replays start with it), else null: the newest. */
  defaultCheckpoint: string | null;
}

/** GET /api/curves?run=I */
export interface RunCurves {
  /** One row per evaluation (env-step order; a resumed run's repeated evaluation counted once): envsteps and the eval keys it has. */
  eval: MetricsRow[];
  /** One row per logged training step: envsteps and the training keys it has. */
  training: MetricsRow[];
  /** Lines of metrics.jsonl that did not parse (a torn tail while a run is written). */
  skipped: number;
}
