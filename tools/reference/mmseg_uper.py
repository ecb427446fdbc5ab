"""UPerNet + FCN auxiliary head and the encoder-decoder test procedure, written from
mmsegmentation 0.x semantics (mmseg/models/decode_heads/{uper_head,psp_head,fcn_head,decode_head}.py,
mmseg/models/segmentors/encoder_decoder.py, mmcv ConvModule). Used only to generate golden fixtures.

Parameter names follow mmsegmentation checkpoints: decode_head.psp_modules.k.1.{conv,bn},
bottleneck, lateral_convs.i, fpn_convs.i, fpn_bottleneck, conv_seg; auxiliary_head.convs.k, conv_seg.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def resize(x, size):
    """mmseg's resize in these configs: bilinear, align_corners=False."""
    return F.interpolate(x, size=tuple(int(s) for s in size), mode="bilinear", align_corners=False)


class ConvModule(nn.Module):
    """mmcv ConvModule with norm_cfg=BN, act_cfg=ReLU: conv (no bias) -> bn -> relu."""

    def __init__(self, cin, cout, k, padding=0, dilation=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=padding, dilation=dilation, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.activate = nn.ReLU()

    def forward(self, x):
        return self.activate(self.bn(self.conv(x)))


class PPM(nn.ModuleList):
    def __init__(self, pool_scales, cin, channels):
        super().__init__()
        for s in pool_scales:
            self.append(nn.Sequential(nn.AdaptiveAvgPool2d(s), ConvModule(cin, channels, 1)))

    def forward(self, x):
        return [resize(m(x), x.shape[2:]) for m in self]


class DecodeHead(nn.Module):
    def __init__(self, channels, num_classes, dropout_ratio=0.1):
        super().__init__()
        self.conv_seg = nn.Conv2d(channels, num_classes, 1)
        self.dropout = nn.Dropout2d(dropout_ratio)

    def cls_seg(self, x):
        return self.conv_seg(self.dropout(x))


class UPerHead(DecodeHead):
    def __init__(self, in_channels, channels, num_classes, pool_scales=(1, 2, 3, 6)):
        super().__init__(channels, num_classes)
        self.psp_modules = PPM(pool_scales, in_channels[-1], channels)
        self.bottleneck = ConvModule(in_channels[-1] + len(pool_scales) * channels, channels, 3, padding=1)
        self.lateral_convs = nn.ModuleList(ConvModule(c, channels, 1) for c in in_channels[:-1])
        self.fpn_convs = nn.ModuleList(ConvModule(channels, channels, 3, padding=1) for _ in in_channels[:-1])
        self.fpn_bottleneck = ConvModule(len(in_channels) * channels, channels, 3, padding=1)

    def psp_forward(self, inputs):
        x = inputs[-1]
        return self.bottleneck(torch.cat([x] + self.psp_modules(x), dim=1))

    def forward(self, inputs):
        laterals = [conv(inputs[i]) for i, conv in enumerate(self.lateral_convs)]
        laterals.append(self.psp_forward(inputs))
        n = len(laterals)
        for i in range(n - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + resize(laterals[i], laterals[i - 1].shape[2:])
        outs = [self.fpn_convs[i](laterals[i]) for i in range(n - 1)]
        outs.append(laterals[-1])
        for i in range(n - 1, 0, -1):
            outs[i] = resize(outs[i], outs[0].shape[2:])
        return self.cls_seg(self.fpn_bottleneck(torch.cat(outs, dim=1)))


class FCNHead(DecodeHead):
    def __init__(self, in_channels, channels, num_classes, in_index=2, num_convs=1, kernel_size=3, concat_input=False):
        super().__init__(channels, num_classes)
        self.in_index = in_index
        pad = kernel_size // 2
        self.convs = nn.Sequential(*[ConvModule(in_channels if k == 0 else channels, channels, kernel_size, padding=pad) for k in range(num_convs)])
        self.concat_input = concat_input
        if concat_input:
            self.conv_cat = ConvModule(in_channels + channels, channels, kernel_size, padding=pad)

    def forward(self, inputs):
        x = inputs[self.in_index]
        out = self.convs(x)
        if self.concat_input:
            out = self.conv_cat(torch.cat([x, out], dim=1))
        return self.cls_seg(out)


class EncoderDecoder(nn.Module):
    """backbone returns {'p2'..'p5'}; test_cfg: mode 'whole' | 'slide', crop_size, stride."""

    def __init__(self, backbone, decode_head, auxiliary_head, num_classes, test_cfg):
        super().__init__()
        self.backbone = backbone
        self.decode_head = decode_head
        self.auxiliary_head = auxiliary_head
        self.num_classes = num_classes
        self.test_cfg = test_cfg

    def extract_feat(self, img):
        o = self.backbone(img)
        return [o[f"p{i + 2}"] for i in range(4)]

    def encode_decode(self, img):
        return resize(self.decode_head(self.extract_feat(img)), img.shape[2:])

    def encode_auxiliary(self, img):
        return resize(self.auxiliary_head(self.extract_feat(img)), img.shape[2:])

    def slide_inference(self, img):
        h_stride, w_stride = self.test_cfg["stride"]
        h_crop, w_crop = self.test_cfg["crop_size"]
        n, _, h_img, w_img = img.shape
        h_grids = max(h_img - h_crop + h_stride - 1, 0) // h_stride + 1
        w_grids = max(w_img - w_crop + w_stride - 1, 0) // w_stride + 1
        preds = img.new_zeros((n, self.num_classes, h_img, w_img))
        count = img.new_zeros((n, 1, h_img, w_img))
        for hi in range(h_grids):
            for wi in range(w_grids):
                y1, x1 = hi * h_stride, wi * w_stride
                y2, x2 = min(y1 + h_crop, h_img), min(x1 + w_crop, w_img)
                y1, x1 = max(y2 - h_crop, 0), max(x2 - w_crop, 0)
                crop = self.encode_decode(img[:, :, y1:y2, x1:x2])
                preds += F.pad(crop, (x1, preds.shape[3] - x2, y1, preds.shape[2] - y2))
                count[:, :, y1:y2, x1:x2] += 1
        assert (count == 0).sum() == 0
        return preds / count

    def logits(self, img):
        """Logits at the (processed) image size, whole or slide."""
        return self.slide_inference(img) if self.test_cfg["mode"] == "slide" else self.encode_decode(img)

    def inference(self, img, ori_shape, flip):
        """mmseg's inference(): logits rescaled to the original size, softmax, flipped back."""
        out = F.softmax(resize(self.logits(img), ori_shape), dim=1)
        return out.flip(dims=(3,)) if flip else out
