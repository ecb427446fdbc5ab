#!/usr/bin/env bash
# End to end: torchvision's convnext_tiny (random weights) vs `convnext features` on both engines,
# plus the exported ONNX file through python3-onnx's checker. Needs Debian's torch, torchvision, onnx.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.work/tv
[ -f $out/tv_convnext_tiny.io.safetensors ] || /usr/bin/python3 tools/export_tv_convnext.py $out
for engine in ort tfjs; do
  echo "== $engine"
  ./bin/convnext.js features -c convnext-t_in1k -w $out/tv_convnext_tiny.safetensors --tensor $out/tv_convnext_tiny.io.safetensors \
    -o $out/ours_$engine.safetensors -e $engine
  npx tsx tools/compare_safetensors.ts $out/ours_$engine.safetensors $out/tv_convnext_tiny.io.safetensors
done
./bin/convnext.js export -c convnext-t_in1k -w $out/tv_convnext_tiny.safetensors -o $out/ours_dynamic.onnx --dynamic
/usr/bin/python3 -c "import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print('onnx checker: ok,', len(m.graph.node), 'nodes, opset', m.opset_import[0].version)" $out/ours_dynamic.onnx
