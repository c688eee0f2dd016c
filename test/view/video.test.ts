// `fathom video` on tiny runs (skipped loudly without Chromium or ffmpeg): the file decodes with
// the expected frame count and size, in each format; an existing file needs --force; bad sizes and
// names are refused before anything is rendered.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { cli } from "../cli/run-cli.js";
import { videoSkip } from "./browser-skip.js";
import { tinyRun } from "./fixtures.js";

const skip = videoSkip();

/** Frames, width, height and codec of a video file as ffprobe decodes it. */
function probe(path: string): { frames: number; width: number; height: number; codec: string } {
  const r = spawnSync("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames,width,height,codec_name", "-of", "json", path], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout).streams[0];
  return { frames: Number(s.nb_read_frames), width: s.width, height: s.height, codec: s.codec_name };
}

describe("fathom video", { skip }, () => {
  let dir: string;
  let runs: string[];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "fathom-video-"));
    runs = [await tinyRun(dir), await tinyRun(dir, "simple_u_maze-v1", ["--actor-depth", "8", "--critic-depth", "8"])];
  });

  test("an .mp4 of one run: steps 0, 3, …, 12 are 5 frames of the size asked for", async () => {
    const out = join(dir, "one.mp4");
    const r = await cli(["video", runs[0], "--out", out, "--size", "320x240", "--fps", "10", "--max-steps", "12", "--steps-per-frame", "3"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /video written to .*one\.mp4: 5 frames of 320x240 at 10 fps/);
    assert.deepEqual(probe(out), { frames: 5, width: 320, height: 240, codec: "h264" });
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes(".part-")),
      [],
      "no temporary file is left",
    );
  });

  test("two runs side by side, two episodes, as .gif and .webm; an existing file needs --force", async () => {
    const gif = join(dir, "two.gif");
    const common = ["video", ...runs, "--size", "480x200", "--fps", "8", "--episodes", "2", "--first-episode", "1", "--steps-per-frame", "4"];
    const args = [...common, "--max-steps", "8"];
    const r = await cli([...args, "--out", gif]);
    assert.equal(r.code, 0, r.err);
    // per episode: steps 0, 4, 8
    assert.deepEqual(probe(gif), { frames: 6, width: 480, height: 200, codec: "gif" });
    const webm = join(dir, "two.webm");
    const w = await cli([...args, "--out", webm, "--layout", "column"]);
    assert.equal(w.code, 0, w.err);
    assert.deepEqual(probe(webm), { frames: 6, width: 480, height: 200, codec: "vp9" });
    // the cache of the viewer was used: one recording per run (8 episodes), no more
    for (const run of runs) assert.equal(readdirSync(join(run, "eval", "episodes")).length, 1);
    const before = readFileSync(gif);
    const again = await cli([...args, "--out", gif]);
    assert.equal(again.code, 1);
    assert.match(again.err, /refusing to overwrite .*two\.gif: choose another file name, or add --force/);
    assert.deepEqual(readFileSync(gif), before);
    const forced = await cli([...common, "--max-steps", "4", "--out", gif, "--force"]);
    assert.equal(forced.code, 0, forced.err);
    assert.equal(probe(gif).frames, 4);
  });

  test("a .png still: the frame at --max-steps, of the size asked for", async () => {
    const png = join(dir, "still.png");
    const r = await cli(["video", ...runs, "--out", png, "--size", "400x160", "--max-steps", "10"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /still written to .*still\.png: 1 frame of 400x160/);
    const b = readFileSync(png);
    assert.equal(b.subarray(1, 4).toString(), "PNG");
    assert.deepEqual([b.readUInt32BE(16), b.readUInt32BE(20)], [400, 160]);
    const many = await cli(["video", runs[0], "--out", join(dir, "x.png"), "--episodes", "2"]);
    assert.match(many.err, /a \.png is one frame .*give --episodes 1/);
  });

  test("bad sizes, names and folders are refused before anything is rendered", async () => {
    const cases: [string[], RegExp][] = [
      [["--out", join(dir, "a.mp4"), "--size", "321x240"], /bad frame size 321x240: the width must be an even integer/],
      [["--out", join(dir, "a.mp4"), "--size", "big"], /bad frame size "big": write it as WIDTHxHEIGHT/],
      [["--out", join(dir, "a.avi")], /the file name must end in \.mp4, \.webm, \.gif, \.png/],
      [["--out", join(dir, "no", "such", "a.mp4")], /folder .* does not exist; create it first/],
      [["--out", join(dir, "a.mp4"), "--first-episode", "60", "--episodes", "5"], /episodes 60…64 go past the 64 a recording holds/],
    ];
    for (const [extra, msg] of cases) {
      const r = await cli(["video", runs[0], ...extra]);
      assert.notEqual(r.code, 0);
      assert.match(r.err, msg);
    }
    assert.equal(existsSync(join(dir, "a.mp4")), false);
    const missing = await cli(["video", join(dir, "nothing-here"), "--out", join(dir, "b.mp4")]);
    assert.match(missing.err, /does not exist/);
    writeFileSync(join(dir, "c.mp4"), "mine");
    const exists = await cli(["video", runs[0], "--out", join(dir, "c.mp4")]);
    assert.match(exists.err, /refusing to overwrite/);
    assert.equal(readFileSync(join(dir, "c.mp4"), "utf8"), "mine");
  });
});
