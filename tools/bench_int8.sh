#!/usr/bin/env bash
# Int8 quantization, measured (issue figures; not a test):
# 1. the bundled demo models on their held-out synthetic sets (as tools/train_demo.sh makes them),
#    float vs static int8 (calibrated on 32 other synthetic images): box/mask AP, mIoU, and the
#    peak RSS of each `convnext eval` run;
# 2. speed, alternating in one process (bench --int8): ConvNeXt-T 224² against torchvision's
#    export (tools/export_tv_convnext.py, needs Debian's python3-torch), UPerNet-T 576² and
#    Mask R-CNN-T 800×1216 against our own float graphs (random weights).
# Usage: tools/bench_int8.sh [threads=2] [runs=20]   (writes into .work/int8)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
runs=${2:-20}
W=.work/int8
CN="node bin/convnext.js"
SHAPES="--min-size 0.25 --max-size 0.5 --max-objects 4"
mkdir -p $W
DET="-c demo_mask-rcnn_convnext-synth -w assets/demo/mask-rcnn_convnext-synth.safetensors"
SEG="-c demo_upernet_convnext-synth -w assets/demo/upernet_convnext-synth.safetensors"
rss() { /usr/bin/time -f "%M" -o "$1" "${@:2}"; echo "peak RSS $(( $(cat "$1") / 1024 )) MB: ${*:2}" >&2; }

$CN synth --task det --out $W/det-val --n 200 --size 320 $SHAPES --seed 2 --overwrite
$CN synth --task seg --out $W/seg-val --n 200 --size 160 $SHAPES --seed 4 --overwrite
$CN synth --task det --out $W/calib --n 32 --size 320 $SHAPES --seed 5 --overwrite
$CN quantize $DET --calib $W/calib/images -o $W/det.int8.onnx --threads "$threads"
$CN quantize $SEG --calib $W/calib/images -o $W/seg.int8.onnx --threads "$threads"
D="--data $W/det-val/annotations.json --images $W/det-val/images --threads $threads"
rss $W/rss-det-fp32 $CN eval $DET $D --out $W/det-fp32.json > $W/det-fp32.txt
rss $W/rss-det-int8 $CN eval --model $W/det.int8.onnx $D --out $W/det-int8.json > $W/det-int8.txt
rss $W/rss-seg-fp32 $CN eval $SEG --data $W/seg-val --threads "$threads" --out $W/seg-fp32.json > $W/seg-fp32.txt
rss $W/rss-seg-int8 $CN eval --model $W/seg.int8.onnx --data $W/seg-val --threads "$threads" --out $W/seg-int8.json > $W/seg-int8.txt
node -e '
const r = (f) => JSON.parse(require("fs").readFileSync(f, "utf8"));
const [df, dq, sf, sq] = ["det-fp32", "det-int8", "seg-fp32", "seg-int8"].map((n) => r(`'$W'/${n}.json`));
console.log(`demo detector box AP float ${df.bbox.stats.AP.toFixed(4)} int8 ${dq.bbox.stats.AP.toFixed(4)}; mask AP float ${df.segm.stats.AP.toFixed(4)} int8 ${dq.segm.stats.AP.toFixed(4)}`);
console.log(`demo segmentor mIoU float ${sf.mIoU} int8 ${sq.mIoU}`);'

[ -f .work/tv/tv_convnext_tiny.onnx ] || /usr/bin/python3 tools/export_tv_convnext.py .work/tv
$CN bench -c convnext-t_in1k -w .work/tv/tv_convnext_tiny.safetensors --threads "$threads" --runs "$runs" --compare .work/tv/tv_convnext_tiny.onnx --int8
$CN bench -c convnext-t_in1k -w .work/tv/tv_convnext_tiny.safetensors --threads "$threads" --runs "$runs" --compare .work/tv/tv_convnext_tiny.onnx --int8 --int8-mode dynamic
$CN bench -c upernet_convnext-t_512x512_160k_ade20k --size 576 --threads "$threads" --runs "$((runs / 2))" --int8
$CN bench -c mask-rcnn_convnext-t_fpn_3x_coco --size 800x1216 --threads "$threads" --runs "$((runs / 4))" --warmup 1 --int8
