/**
 * onnxruntime-web in the page: the WebAssembly build (SIMD, threads when the page is
 * cross-origin isolated) or, where the browser has WebGPU, the WebGPU build with WebAssembly as
 * its fallback; and a {@link Runner} over one of its sessions.
 */
import type * as Ort from 'onnxruntime-web';
import type { Runner } from '../core/runner.js';
import type { HostTensor } from '../core/host-tensor.js';

/** The onnxruntime-web module the page loaded, and how it runs. */
export interface WebEngine {
  ort: typeof Ort;
  /** Execution providers tried in order. */
  providers: Array<'webgpu' | 'wasm'>;
  /** WebAssembly threads (1 unless the page is cross-origin isolated). */
  threads: number;
  /** One line for the page: build, providers and threads. */
  describe(): string;
}

/**
 * Loads onnxruntime-web from `base` (the site's `ort/` folder, which holds its .mjs and .wasm
 * files): the WebGPU build when `navigator.gpu` exists and `webgpu` is not false, else the
 * WebAssembly build.
 */
export async function loadEngine(base: string, o: { webgpu?: boolean; threads?: number } = {}): Promise<WebEngine> {
  const gpu = o.webgpu !== false && typeof navigator !== 'undefined' && 'gpu' in navigator && (await hasAdapter());
  const file = gpu ? 'ort.webgpu.min.mjs' : 'ort.wasm.min.mjs';
  const ort = (await import(/* @vite-ignore */ new URL(file, base).href)) as typeof Ort;
  const isolated = typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated;
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  const threads = isolated ? Math.max(1, Math.min(o.threads ?? 4, cores)) : 1;
  ort.env.wasm.wasmPaths = base;
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  const providers: WebEngine['providers'] = gpu ? ['webgpu', 'wasm'] : ['wasm'];
  return {
    ort,
    providers,
    threads,
    describe: () => `onnxruntime-web ${ort.env.versions.web ?? ''} (${providers.join(' → ')}, ${threads} thread${threads === 1 ? '' : 's'}${isolated ? ', cross-origin isolated' : ''})`,
  };
}

/** Whether WebGPU gives an adapter (headless browsers often expose `navigator.gpu` without one). */
async function hasAdapter(): Promise<boolean> {
  try {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    return (await gpu?.requestAdapter()) != null;
  } catch {
    return false;
  }
}

/** A runner over an onnxruntime-web session: the first input is the NCHW image, others are tables by name. */
export class WebRunner implements Runner {
  private constructor(private readonly ort: typeof Ort, readonly session: Ort.InferenceSession) {}

  /** A session of `model` (ONNX bytes) on the engine's providers. */
  static async create(engine: WebEngine, model: Uint8Array): Promise<WebRunner> {
    const session = await engine.ort.InferenceSession.create(model, { executionProviders: engine.providers, graphOptimizationLevel: 'all' });
    return new WebRunner(engine.ort, session);
  }

  async run(input: HostTensor, tables: Readonly<Record<string, HostTensor>> = {}): Promise<Record<string, HostTensor>> {
    const { Tensor } = this.ort;
    const feeds: Record<string, Ort.Tensor> = { [this.session.inputNames[0]]: new Tensor('float32', input.data, input.shape) };
    for (const [name, t] of Object.entries(tables)) feeds[name] = new Tensor('float32', t.data, t.shape);
    const res = await this.session.run(feeds);
    const out: Record<string, HostTensor> = {};
    for (const name of this.session.outputNames) {
      const t = res[name];
      // WebGPU outputs may live on the GPU: getData() downloads them.
      const data = (t.location === 'cpu' ? t.data : await t.getData()) as Float32Array;
      out[name] = { shape: t.dims.map(Number), data };
      t.dispose();
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
