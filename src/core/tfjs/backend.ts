/**
 * TensorFlow.js backend selection: tfjs-node-gpu, then tfjs-node, then wasm, then cpu, unless a
 * backend is named. The optional native packages are imported only when present.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors.js';
import { installWasmSlice } from './wasm-slice.js';

import type { BackendChoice } from './backend-choices.js';

export { BACKEND_CHOICES, type BackendChoice, type BackendName } from './backend-choices.js';

let chosen: string | null = null;

async function tryImport(pkg: string): Promise<boolean> {
  try {
    await import(pkg);
    return true;
  } catch {
    return false;
  }
}

async function activate(name: string): Promise<boolean> {
  try {
    const ok = await tf.setBackend(name);
    if (ok) await tf.ready();
    return ok;
  } catch {
    return false;
  }
}

/**
 * The cpu backend prints a banner ("install tfjs-node") to the console on its first tensor; our
 * output is our own lines (the chosen backend is logged instead). The banner is gated by the
 * backend's `firstUse` flag, which is cleared here. Returns true.
 */
function quietCpuBanner(): boolean {
  const backend = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (backend && backend.firstUse === true) backend.firstUse = false;
  return true;
}

/**
 * Makes a TensorFlow.js backend active and returns its description. Called once per process by
 * the engine; later calls return the first choice. `log` receives one line naming the choice.
 */
export async function initBackend(choice: BackendChoice = 'auto', log: (line: string) => void = () => {}): Promise<string> {
  if (chosen) {
    const want = { 'node-gpu': 'tensorflow (tfjs-node-gpu)', node: 'tensorflow (tfjs-node)', wasm: 'wasm', cpu: 'cpu', auto: chosen }[choice];
    if (want !== chosen) throw new UserError(`tfjs backend '${choice}' requested, but this process already uses ${chosen}`);
    return chosen;
  }
  const attempts: Array<[string, () => Promise<boolean>]> = [];
  const native = (pkg: string) => async () => (await tryImport(pkg)) && activate('tensorflow');
  const wasm = async () => (await tryImport('@tensorflow/tfjs-backend-wasm')) && (await activate('wasm')) && installWasmSlice();
  const cpu = async () => (await tryImport('@tensorflow/tfjs-backend-cpu')) && (await activate('cpu')) && quietCpuBanner();
  if (choice === 'auto' || choice === 'node-gpu') attempts.push(['tensorflow (tfjs-node-gpu)', native('@tensorflow/tfjs-node-gpu')]);
  if (choice === 'auto' || choice === 'node') attempts.push(['tensorflow (tfjs-node)', native('@tensorflow/tfjs-node')]);
  if (choice === 'auto' || choice === 'wasm') attempts.push(['wasm', wasm]);
  if (choice === 'auto' || choice === 'cpu') attempts.push(['cpu', cpu]);
  for (const [label, attempt] of attempts) {
    if (await attempt()) {
      chosen = label;
      log(`tfjs backend: ${label}`);
      return label;
    }
  }
  throw new UserError(`tfjs backend '${choice}' is not available (install the package or pick another with --backend)`);
}
