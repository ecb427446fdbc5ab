"""Refills stripped ONNX graphs (tools/strip_onnx.py) with random weights and times pairs of them
alternately in one process with python onnxruntime (same native runtime as onnxruntime-node),
thread spinning off, sequential execution. Prints medians and the ratio for each pair.
Usage: python3 refill_bench.py THREADS RUNS OURS.onnx:THEIRS.onnx:H:W [...]"""
import statistics
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper


def refill(path):
    m = onnx.load(path)
    rng = np.random.default_rng(0)
    for i, t in enumerate(m.graph.initializer):
        if t.doc_string == "stripped":
            dims = list(t.dims)
            arr = (rng.standard_normal(dims) * 0.02).astype(np.float32)
            if t.name.endswith("running_var") or "running_var" in t.name:
                arr = np.abs(arr) + 1
            new = numpy_helper.from_array(arr, t.name)
            m.graph.initializer[i].CopyFrom(new)
    return m.SerializeToString()


def session(path, threads):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(refill(path), so, providers=["CPUExecutionProvider"])


def main():
    threads, runs = int(sys.argv[1]), int(sys.argv[2])
    for spec in sys.argv[3:]:
        ours, theirs, h, w = spec.split(":")
        s = [session(ours, threads), session(theirs, threads)]
        x = np.random.default_rng(1).standard_normal((1, 3, int(h), int(w))).astype(np.float32)
        feeds = [{ss.get_inputs()[0].name: x} for ss in s]
        for _ in range(3):
            for ss, f in zip(s, feeds):
                ss.run(None, f)
        times = [[], []]
        for _ in range(runs):
            for k in range(2):
                t0 = time.perf_counter()
                s[k].run(None, feeds[k])
                times[k].append((time.perf_counter() - t0) * 1000)
        a, b = statistics.median(times[0]), statistics.median(times[1])
        print(f"{ours} vs {theirs} at {h}x{w}, {threads} threads, {runs} runs: {a:.1f} ms vs {b:.1f} ms, ratio {a / b:.3f}", flush=True)


if __name__ == "__main__":
    main()
