#!/bin/sh
# Reproduces the demo models of `convnext demo` (assets/demo/*-synth.safetensors): synthetic shape
# datasets, training on the CPU (TensorFlow.js wasm backend), evaluation of the float16 weights on
# the held-out sets with the project's own evaluators, and the copy into assets/demo/.
#
#   sh tools/train_demo.sh            # everything, in .work/demo (WORK=dir to change)
#   STEP=det sh tools/train_demo.sh   # only the detector (det) or only the segmentor (seg)
#
# Training is deterministic for a backend (seeded data order, augmentation and sampling); a run
# can be stopped with Ctrl-C and continued by adding --resume to its train command.
set -eu
W=${WORK:-.work/demo}
STEP=${STEP:-all}
CN="node --import tsx src/cli/main.ts"
# Shapes of 25–50 % of the image side, at most four per image (all backgrounds and colours).
SHAPES="--min-size 0.25 --max-size 0.5 --max-objects 4"

if [ "$STEP" = all ] || [ "$STEP" = det ]; then
  $CN synth --task det --out "$W/det-train" --n 2000 --size 160 $SHAPES --seed 1 --overwrite
  $CN synth --task det --out "$W/det-val" --n 200 --size 160 $SHAPES --seed 2 --overwrite
  # Two stages: 3000 steps from scratch, then 1500 more from the first stage's best weights with a
  # fresh warm-up and decay (recipes demo_mask-rcnn_synth and demo_mask-rcnn_synth_ft).
  $CN train --config demo_mask-rcnn_synth --data "$W/det-train" --val-data "$W/det-val" --work-dir "$W/det" --backend wasm
  $CN train --config demo_mask-rcnn_synth_ft --data "$W/det-train" --val-data "$W/det-val" --work-dir "$W/det-ft" --backend wasm \
    --set init_weights="$W/det/best.safetensors"
  # Then 320-pixel images: two more stages of 2000 steps at scales 256–320 (recipes
  # demo_mask-rcnn_synth_320 and demo_mask-rcnn_synth_320_ft), each from the previous best weights.
  $CN synth --task det --out "$W/det320-train" --n 2000 --size 320 $SHAPES --seed 1 --overwrite
  $CN synth --task det --out "$W/det320-val" --n 200 --size 320 $SHAPES --seed 2 --overwrite
  $CN train --config demo_mask-rcnn_synth_320 --data "$W/det320-train" --val-data "$W/det320-val" --work-dir "$W/det320" --backend wasm \
    --set init_weights="$W/det-ft/best.safetensors"
  $CN train --config demo_mask-rcnn_synth_320_ft --data "$W/det320-train" --val-data "$W/det320-val" --work-dir "$W/det320-ft" --backend wasm \
    --set init_weights="$W/det320/best.safetensors"
  $CN convert "$W/det320-ft/best.safetensors" assets/demo/mask-rcnn_convnext-synth.safetensors --dtype float16 --config demo_mask-rcnn_convnext-synth
  $CN eval --config demo_mask-rcnn_convnext-synth --weights assets/demo/mask-rcnn_convnext-synth.safetensors \
    --data "$W/det320-val/annotations.json" --images "$W/det320-val/images" --out "$W/det-eval.json"
fi

if [ "$STEP" = all ] || [ "$STEP" = seg ]; then
  $CN synth --task seg --out "$W/seg-train" --n 2000 --size 160 $SHAPES --seed 3 --overwrite
  $CN synth --task seg --out "$W/seg-val" --n 200 --size 160 $SHAPES --seed 4 --overwrite
  # Starts from the final detector's backbone: needs $W/det-ft/best.safetensors (STEP=det, or STEP=all).
  $CN train --config demo_upernet_synth --data "$W/seg-train" --val-data "$W/seg-val" --work-dir "$W/seg" --backend wasm \
    --set init_weights="$W/det-ft/best.safetensors"
  $CN train --config demo_upernet_synth_ft --data "$W/seg-train" --val-data "$W/seg-val" --work-dir "$W/seg-ft" --backend wasm \
    --set init_weights="$W/seg/best.safetensors"
  $CN train --config demo_upernet_synth_ft2 --data "$W/seg-train" --val-data "$W/seg-val" --work-dir "$W/seg-ft2" --backend wasm \
    --set init_weights="$W/seg-ft/best.safetensors"
  $CN train --config demo_upernet_synth_ft3 --data "$W/seg-train" --val-data "$W/seg-val" --work-dir "$W/seg-ft3" --backend wasm \
    --set init_weights="$W/seg-ft2/best.safetensors"
  # The fifth stage repeats the fourth's recipe from its best weights.
  $CN train --config demo_upernet_synth_ft3 --data "$W/seg-train" --val-data "$W/seg-val" --work-dir "$W/seg-ft4" --backend wasm \
    --set init_weights="$W/seg-ft3/best.safetensors"
  $CN convert "$W/seg-ft4/best.safetensors" assets/demo/upernet_convnext-synth.safetensors --dtype float16 --config demo_upernet_convnext-synth
  # Single scale, then flip + multi-scale test-time augmentation (the config's tta scales, as `convnext demo` runs it).
  $CN eval --config demo_upernet_convnext-synth --weights assets/demo/upernet_convnext-synth.safetensors \
    --data "$W/seg-val" --out "$W/seg-eval.json"
  $CN eval --config demo_upernet_convnext-synth --weights assets/demo/upernet_convnext-synth.safetensors \
    --data "$W/seg-val" --tta --out "$W/seg-eval-tta.json"
fi
