"""The performance anchor of tools/bench_seg.ts: UPerNet ConvNeXt (T by default; 512 channels,
150 classes) written in PyTorch (tools/reference/{convnext_official,mmseg_uper}.py, as the official
ConvNeXt + mmsegmentation code) and exported with torch.onnx.export at a fixed size, as
mmdeploy does. Also writes the same random weights (canonical keys) for our side.

  /usr/bin/python3 tools/export_upernet_anchor.py --size 576 --onnx /tmp/anchor.onnx --weights /tmp/upernet.safetensors

PyTorch exports adaptive average pooling only when the input is divisible by every pool scale, so
at 512x512 (16x16 at stride 32, not divisible by 3 or 6) the export fails; this script reports it.
The output is `logits` at the input size (mmseg's encode_decode), like our network; with
--head-only, the head's logits at stride 4 (our network with `upsample: false`).
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "reference"))
sys.path.insert(0, os.path.join(HERE, "fixtures"))
import convnext_official as cnx  # noqa: E402
import mmseg_uper as mm  # noqa: E402
import stio  # noqa: E402

VARIANTS = {
    "tiny": ([3, 3, 9, 3], [96, 192, 384, 768]),
    "small": ([3, 3, 27, 3], [96, 192, 384, 768]),
    "base": ([3, 3, 27, 3], [128, 256, 512, 1024]),
}


class Deploy(torch.nn.Module):
    def __init__(self, model, head_only):
        super().__init__()
        self.model = model
        self.head_only = head_only

    def forward(self, x):
        if self.head_only:
            return self.model.decode_head(self.model.extract_feat(x))
        return self.model.encode_decode(x)


def build(variant, classes, seed=0):
    depths, dims = VARIANTS[variant]
    torch.manual_seed(seed)
    backbone = cnx.ConvNeXt(depths, dims, version=1, ls_init=1.0, out_indices=(0, 1, 2, 3))
    model = mm.EncoderDecoder(backbone, mm.UPerHead(dims, 512, classes), mm.FCNHead(dims[2], 256, classes),
                              classes, {"mode": "whole"}).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / p[0].numel() ** 0.5)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=g))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=g))
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", default="tiny", choices=sorted(VARIANTS))
    ap.add_argument("--classes", type=int, default=150)
    ap.add_argument("--size", type=int, default=576)
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--weights")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--head-only", action="store_true", help="output the head's logits (stride 4), without the final resize")
    a = ap.parse_args()
    model = build(a.variant, a.classes)
    if a.weights:
        stio.save(a.weights, model.state_dict())
    x = torch.randn(1, 3, a.size, a.size)
    try:
        torch.onnx.export(Deploy(model, a.head_only), x, a.onnx, input_names=["input"], output_names=["logits"], opset_version=a.opset)
    except Exception as e:  # noqa: BLE001 - report why PyTorch cannot export this size
        print(f"export at {a.size}x{a.size} failed: {str(e).splitlines()[0]}")
        sys.exit(3)
    print(f"wrote {a.onnx} ({os.path.getsize(a.onnx) / 1e6:.1f} MB) at {a.size}x{a.size}")


if __name__ == "__main__":
    main()
