"""Exports torchvision's convnext_tiny (random weights) to ONNX, the speed anchor for `convnext bench
--compare`, plus the same weights renamed to our canonical names as safetensors, so both models
compute the same function, and the input with torchvision's stage outputs (p2..p5) and logits
(tv_convnext_tiny.io.safetensors) for the end-to-end parity check (tools/check_convnext_t.sh). Run: /usr/bin/python3 tools/export_tv_convnext.py OUT_DIR [--size 224] [--opset 17]"""
import argparse
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fixtures"))
import stio  # noqa: E402
from gen_backbone import tv_to_official  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--opset", type=int, default=17)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    m = torchvision.models.convnext_tiny().eval()
    x = torch.randn(1, 3, a.size, a.size)
    onnx_path = os.path.join(a.out, "tv_convnext_tiny.onnx")
    torch.onnx.export(m, x, onnx_path, opset_version=a.opset, input_names=["input"], output_names=["logits"])
    stio.save(os.path.join(a.out, "tv_convnext_tiny.safetensors"), tv_to_official(m.state_dict()))
    with torch.no_grad():
        io, h = {"input": x}, x
        for i, layer in enumerate(m.features):
            h = layer(h)
            if i % 2 == 1:
                io[f"expected.p{i // 2 + 2}"] = h
        io["expected.logits"] = m(x)
        stio.save(os.path.join(a.out, "tv_convnext_tiny.io.safetensors"), io)
    print("wrote", onnx_path)


if __name__ == "__main__":
    main()
