// Lazy loader of the MuJoCo WebAssembly module (`@mujoco/mujoco`, single-threaded build).
// One module per thread: each worker that hosts MuJoCo envs instantiates its own copy the first
// time a core is built there, so importing an env file never pays the ~0.3 s wasm start-up.

import type { MainModule, MjModel } from "@mujoco/mujoco";

let modulePromise: Promise<MainModule> | undefined;

/** The MuJoCo module of this thread, instantiated on first use. */
export function loadMujoco(): Promise<MainModule> {
  if (modulePromise === undefined) {
    modulePromise = import("@mujoco/mujoco").then((m) => m.default()).catch((err: unknown) => {
      modulePromise = undefined;
      throw new Error(
        `could not load the MuJoCo WebAssembly module (@mujoco/mujoco): ${err instanceof Error ? err.message : String(err)}; ` +
          "reinstall dependencies with `npm ci`",
      );
    });
  }
  return modulePromise;
}

/** Compiles an MJCF string; a MuJoCo parse or compile error is rethrown with the model's name. */
export function modelFromXml(mj: MainModule, xml: string, what: string): MjModel {
  try {
    return mj.MjModel.from_xml_string(xml);
  } catch (err) {
    throw new Error(`MuJoCo rejected the ${what} model: ${err instanceof Error ? err.message : String(err)}`);
  }
}
