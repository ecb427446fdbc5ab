"""Writes src/config/imagenet-classes.ts from torchvision's ImageNet-1k category list.
Run: /usr/bin/python3 tools/gen_imagenet_classes.py"""
import json
import os

from torchvision.models._meta import _IMAGENET_CATEGORIES as CLASSES

path = os.path.join(os.path.dirname(__file__), "..", "src", "config", "imagenet-classes.ts")
with open(path, "w") as f:
    f.write("// ImageNet-1k class names in index order (generated from torchvision's metadata by tools/gen_imagenet_classes.py).\n")
    f.write("export const IMAGENET1K_CLASSES: readonly string[] = " + json.dumps(CLASSES, indent=0) + ";\n")
