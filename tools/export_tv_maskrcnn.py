"""The speed anchor of tools/bench_det.ts: torchvision's MaskRCNN with a ConvNeXt-T body (raw stages
of `convnext_tiny().features`) and torchvision's FPN (BackboneWithFPN, 256 channels), 80 classes +
background, exported to ONNX (opset 11, as a Python user would) at a fixed input size; plus the same
weights under our canonical names (safetensors) and the input image, so both compute the same
function on the same data.

Weights are random (torchvision's initialisation, then the box classifier scaled down and ten
classes biased up so that, as on real images, a few thousand boxes pass the 0.05 score threshold
and the RoI heads, NMS and mask branch do their full work: 100 detections).

Run: /usr/bin/python3 tools/export_tv_maskrcnn.py OUT_DIR [--size 800x1216] [--opset 11] [--no-paste]
Writes OUT_DIR/tv_maskrcnn_convnext_t.onnx, tv_maskrcnn_convnext_t.safetensors (canonical),
tv_maskrcnn_input.safetensors (`image` [3, H, W] in 0..1, torchvision's input; `input` the same
normalised on the 0-255 scale with ImageNet statistics, ours) and prints the detections torchvision gives.
"""
import argparse
import os
import sys
import time

import torch
import torchvision
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.backbone_utils import BackboneWithFPN

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fixtures"))
import stio  # noqa: E402
from gen_det import tv_maskrcnn_to_canonical  # noqa: E402


def build(num_classes=81):
    torch.manual_seed(0)
    cn = torchvision.models.convnext_tiny()
    body = BackboneWithFPN(cn.features, {"1": "0", "3": "1", "5": "2", "7": "3"}, [96, 192, 384, 768], 256)
    m = MaskRCNN(body, num_classes=num_classes).eval()
    with torch.no_grad():
        cls = m.roi_heads.box_predictor.cls_score
        cls.weight.mul_(0.1)
        cls.bias.zero_()
        cls.bias[1:11] = 3.0
    return m


def smooth_image(h, w):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, 3, h // 16, w // 16, generator=g)
    x = torch.nn.functional.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
    return (x + 0.1 * torch.rand(1, 3, h, w, generator=g)).clamp(0, 1)[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", default="800x1216")
    ap.add_argument("--opset", type=int, default=11)
    ap.add_argument("--no-paste", action="store_true",
                    help="export without the mask paste (masks stay 28x28): isolates the cost of the paste loop")
    a = ap.parse_args()
    if a.no_paste:
        import torchvision.models.detection.transform as T
        T.paste_masks_in_image = lambda masks, boxes, img_shape, padding=1: masks
    h, w = (int(v) for v in a.size.split("x"))
    os.makedirs(a.out, exist_ok=True)
    m = build()
    img = smooth_image(h, w)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    ours = ((img * 255 - mean * 255) / (std * 255))[None]
    stio.save(os.path.join(a.out, "tv_maskrcnn_input.safetensors"), {"image": img, "input": ours})
    stio.save(os.path.join(a.out, "tv_maskrcnn_convnext_t.safetensors"), tv_maskrcnn_to_canonical(m.state_dict()))
    if not a.no_paste:
        t0 = time.time()
        with torch.no_grad():
            out = m([img])[0]
        print(f"torch eager: {time.time() - t0:.1f} s, {len(out['boxes'])} detections, top scores {out['scores'][:3].tolist()}")
    path = os.path.join(a.out, "tv_maskrcnn_convnext_t_nopaste.onnx" if a.no_paste else "tv_maskrcnn_convnext_t.onnx")
    torch.onnx.export(m, ([img],), path, opset_version=a.opset, input_names=["image"],
                      output_names=["boxes", "labels", "scores", "masks"])
    print("wrote", path)


if __name__ == "__main__":
    main()
