/** One line per sub-command, for `convnext --help` without loading the commands (they load on use). */
export const DESCRIPTIONS = {
  demo: 'run the bundled demo models (Mask R-CNN and UPerNet trained on synthetic shapes) on sample images: overlays and JSON',
  configs: 'list the named configs and training recipes',
  config: 'inspect configs',
  features: "extract every output level (p2…p5) of a model's backbone into a safetensors file",
  classify: 'classify images or folders; prints JSON with the top-k classes per image',
  export: 'write the model as an ONNX graph (opset 17) that onnxruntime or Triton can run',
  quantize: 'write an int8 ONNX model (static with calibration images, or dynamic) and report its agreement with the float model',
  bench: 'median latency and peak memory of a model (random weights unless --weights)',
  convert: 'convert a checkpoint (.pth zip/legacy or .safetensors; official, timm, torchvision, mmdet, mmseg layouts) to canonical safetensors',
  inspect: 'list the tensors, parameter count, key layout and wrapper of a checkpoint (.pth or .safetensors), or the inputs, outputs and metadata of an ONNX model',
  detect: 'instance segmentation (Mask R-CNN, Cascade Mask R-CNN): COCO-style JSON and an overlay PNG per image',
  segment: 'semantic segmentation: label PNG, colour overlay PNG and JSON summary per image',
  eval: 'evaluate a model on a dataset: COCO bbox/segm for Mask R-CNN, mIoU for segmentors',
  synth: 'write a deterministic synthetic dataset of shapes: COCO JSON (det) or label maps (seg)',
  serve: 'serve a model over HTTP (POST /v1/detect, /v1/segment, /v1/classify or /v1/features) with dynamic batching, health, readiness and Prometheus metrics',
  web: 'write a static web page that runs the demo (or given exported) detector and segmentor in the browser with onnxruntime-web; --serve serves it locally',
  train: 'train or fine-tune a Mask R-CNN or UPerNet model (tfjs engine) with checkpoints, logs and evaluation',
} as const;

/** A sub-command name. */
export type CommandName = keyof typeof DESCRIPTIONS;
