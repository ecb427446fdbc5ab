#!/usr/bin/env bash
# ConvNeXt-T at 224x224 on onnxruntime: our graph vs torchvision's export, alternating in one
# process (thread spinning off), same weights. Needs Debian's torch: apt-get install -y python3-torch python3-torchvision
# Usage: tools/bench_convnext_t.sh [threads=2] [runs=40]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
runs=${2:-40}
out=.work/tv
[ -f $out/tv_convnext_tiny.onnx ] || /usr/bin/python3 tools/export_tv_convnext.py $out
./bin/convnext.js bench -c convnext-t_in1k -w $out/tv_convnext_tiny.safetensors --threads "$threads" --runs "$runs" \
  --compare $out/tv_convnext_tiny.onnx
./bin/convnext.js bench -c convnext-t_in1k -w $out/tv_convnext_tiny.safetensors -e tfjs --backend wasm --runs 5 --warmup 1
