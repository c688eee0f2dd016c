// The smallest training configuration the tests use (point U-maze, networks of width 16): a run of
// a few hundred env steps takes well under a second. Tests override what they need.
export const TINY = {
  env: "simple_u_maze-v1",
  numEnvs: 4,
  unrollLength: 10,
  batchSize: 16,
  sgdBatchesPerStep: 2,
  numEvalEnvs: 2,
  episodeLength: 40,
  minReplaySize: 10,
  maxReplaySize: 200,
  windowLength: 40,
  actorWidth: 16,
  criticWidth: 16,
  reprDim: 8,
  threads: 0,
};
