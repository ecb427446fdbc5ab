"""Strips the float initializers of ONNX models (keeping names, dims and small int constants) so
that the graphs travel small; tools/refill_bench.py refills them with random values elsewhere.
Only for speed comparisons of networks whose run time does not depend on the values.
Usage: /usr/bin/python3 tools/strip_onnx.py IN.onnx OUT.onnx"""
import sys

import onnx
from onnx import TensorProto

m = onnx.load(sys.argv[1])
for t in m.graph.initializer:
    if t.data_type == TensorProto.FLOAT and (len(t.raw_data) > 64 or len(t.float_data) > 16):
        t.ClearField("raw_data")
        t.ClearField("float_data")
        t.doc_string = "stripped"
onnx.save(m, sys.argv[2])
