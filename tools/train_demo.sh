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
  # Stop at step 1500 to keep that checkpoint (the segmentor starts from its backbone), then go on:
  # a resumed run ends where an uninterrupted one does.
  $CN train --config demo_mask-rcnn_synth --data "$W/det-train" --val-data "$W/det-val" --work-dir "$W/det" --backend wasm --max-steps 1500
  cp "$W/det/checkpoints/iter_001500/model.safetensors" "$W/det-step1500.safetensors"
  $CN train --config demo_mask-rcnn_synth --data "$W/det-train" --val-data "$W/det-val" --work-dir "$W/det" --backend wasm --resume
  $CN convert "$W/det/best.safetensors" assets/demo/mask-rcnn_convnext-synth.safetensors --dtype float16 --config demo_mask-rcnn_convnext-synth
  $CN eval --config demo_mask-rcnn_convnext-synth --weights assets/demo/mask-rcnn_convnext-synth.safetensors \
    --data "$W/det-val/annotations.json" --images "$W/det-val/images" --out "$W/det-eval.json"
fi

if [ "$STEP" = all ] || [ "$STEP" = seg ]; then
  $CN synth --task seg --out "$W/seg-train" --n 2000 --size 160 $SHAPES --seed 3 --overwrite
  $CN synth --task seg --out "$W/seg-val" --n 200 --size 160 $SHAPES --seed 4 --overwrite
  # Needs $W/det-step1500.safetensors from the detector's run (STEP=det, or STEP=all).
  $CN train --config demo_upernet_synth --data "$W/seg-train" --val-data "$W/seg-val" --work-dir "$W/seg" --backend wasm \
    --set init_weights="$W/det-step1500.safetensors"
  $CN convert "$W/seg/best.safetensors" assets/demo/upernet_convnext-synth.safetensors --dtype float16 --config demo_upernet_convnext-synth
  $CN eval --config demo_upernet_convnext-synth --weights assets/demo/upernet_convnext-synth.safetensors \
    --data "$W/seg-val" --out "$W/seg-eval.json"
fi
