"""Cascade Mask R-CNN at test time, written from mmdetection 2.x semantics (one image, float32).

Modules and steps, with the mmdetection 2.x code each one follows:
- backbone: the official ConvNeXt definition (convnext_official.py) with dense outputs norm0..norm3;
- FPN (`FPN`): lateral 1x1 convs, top-down nearest upsampling to the finer size, 3x3 output convs,
  an extra level by max-pool (kernel 1, stride 2);
- RPN (`RPNHead`, `AnchorGenerator`, `DeltaXYWHBBoxCoder`): conv 3x3 + ReLU, objectness and deltas;
  base anchors of side stride x 8 for ratios 0.5 / 1 / 2 around (0, 0), shifted by the stride;
  `_get_bboxes_single`: per level the sigmoid scores sorted, the best nms_pre kept, decoded (dw/dh
  clamped to |log(16/1000)|, clipped to the image), boxes of zero width or height dropped,
  NMS 0.7 per level, the best max_per_img overall;
- RoI pooling (`SingleRoIExtractor`): level floor(log2(sqrt(wh) / 56 + 1e-6)) clamped to 0..3,
  `roi_align(aligned=True, sampling_ratio=0)` (torchvision's kernel, which mmcv's equals);
- box heads (`ConvFCBBoxHead` with shared convs: ConvModule conv (no bias) + BN + ReLU, flatten,
  shared fcs + ReLU, fc_cls (C + 1, background last), fc_reg (4C, or 4 class-agnostic));
- `CascadeRoIHead.simple_test`: per stage pool + box head; before the last stage
  `regress_by_class` with the arg-max foreground logit; the mean of the stages' logits, softmax,
  the last stage's deltas decoded for every class (`get_bboxes`), `multiclass_nms`
  (score > score_thr, class-wise NMS, best max_per_img); masks: every stage's `FCNMaskHead` on the
  detected boxes, sigmoid, averaged (`merge_aug_masks`), the label's channel.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.ops import nms, roi_align

import convnext_official as cnx

WH_CLIP = abs(math.log(16 / 1000))


class ConvModule(nn.Module):
    def __init__(self, cin, cout, norm):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=not norm)
        self.bn = nn.BatchNorm2d(cout) if norm else None

    def forward(self, x):
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x)


class ConvFCBBoxHead(nn.Module):
    def __init__(self, cin, roi, convs, conv_c, fcs, fc_c, classes, agnostic, norm):
        super().__init__()
        self.shared_convs = nn.ModuleList()
        c = cin
        for _ in range(convs):
            self.shared_convs.append(ConvModule(c, conv_c, norm))
            c = conv_c
        self.shared_fcs = nn.ModuleList()
        w = c * roi * roi
        for _ in range(fcs):
            self.shared_fcs.append(nn.Linear(w, fc_c))
            w = fc_c
        self.fc_cls = nn.Linear(w, classes + 1)
        self.fc_reg = nn.Linear(w, 4 if agnostic else 4 * classes)
        self.agnostic = agnostic

    def forward(self, x):
        for conv in self.shared_convs:
            x = conv(x)
        x = x.flatten(1)
        for fc in self.shared_fcs:
            x = F.relu(fc(x))
        return self.fc_cls(x), self.fc_reg(x)


class ConvWrap(nn.Module):
    """`convs.k.conv` of mmdetection's FCNMaskHead (ConvModule without norm: conv with bias)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x):
        return F.relu(self.conv(x))


class FCNMaskHead(nn.Module):
    def __init__(self, cin, convs, conv_c, classes):
        super().__init__()
        self.convs = nn.ModuleList(ConvWrap(cin if k == 0 else conv_c, conv_c) for k in range(convs))
        c = conv_c if convs else cin
        self.upsample = nn.ConvTranspose2d(c, c, 2, stride=2)
        self.conv_logits = nn.Conv2d(c, classes, 1)

    def forward(self, x):
        for conv in self.convs:
            x = conv(x)
        return self.conv_logits(F.relu(self.upsample(x)))


class Neck(nn.Module):
    def __init__(self, dims, c):
        super().__init__()
        self.lateral_convs = nn.ModuleList(ConvOnly(d, c, 1) for d in dims)
        self.fpn_convs = nn.ModuleList(ConvOnly(c, c, 3) for _ in dims)

    def forward(self, feats):
        lat = [m(f) for m, f in zip(self.lateral_convs, feats)]
        for i in range(len(lat) - 1, 0, -1):
            lat[i - 1] = lat[i - 1] + F.interpolate(lat[i], size=lat[i - 1].shape[2:], mode="nearest")
        outs = [m(x) for m, x in zip(self.fpn_convs, lat)]
        outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return outs


class ConvOnly(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=k // 2)

    def forward(self, x):
        return self.conv(x)


class RPNHead(nn.Module):
    def __init__(self, c, feat, anchors):
        super().__init__()
        self.rpn_conv = nn.Conv2d(c, feat, 3, padding=1)
        self.rpn_cls = nn.Conv2d(feat, anchors, 1)
        self.rpn_reg = nn.Conv2d(feat, 4 * anchors, 1)

    def forward(self, x):
        x = F.relu(self.rpn_conv(x))
        return self.rpn_cls(x), self.rpn_reg(x)


class RoIHead(nn.Module):
    def __init__(self, bbox_heads, mask_heads):
        super().__init__()
        self.bbox_head = nn.ModuleList(bbox_heads)
        self.mask_head = nn.ModuleList(mask_heads)


class CascadeMaskRCNN(nn.Module):
    """Parameter names are mmdetection's (backbone., neck., rpn_head., roi_head.)."""

    def __init__(self, depths, dims, fpn_c, classes, bbox_cfg, mask_convs, mask_c, stage_stds, test_cfg):
        super().__init__()
        self.backbone = cnx.ConvNeXt(depths, dims, version=1, ls_init=1.0, out_indices=(0, 1, 2, 3))
        self.neck = Neck(dims, fpn_c)
        self.rpn_head = RPNHead(fpn_c, fpn_c, 3)
        self.roi_head = RoIHead(
            [ConvFCBBoxHead(fpn_c, 7, classes=classes, **bbox_cfg) for _ in stage_stds],
            [FCNMaskHead(fpn_c, mask_convs, mask_c, classes) for _ in stage_stds],
        )
        self.stage_stds = stage_stds
        self.classes = classes
        self.test_cfg = test_cfg
        self.strides = [4, 8, 16, 32, 64]

    def forward(self, img, img_shape):
        """img [1, 3, H, W] (normalised, padded), img_shape (h, w) of the valid part."""
        out = self.backbone(img)
        pyramid = self.neck([out[f"p{i + 2}"] for i in range(4)])
        props, prop_scores = self.proposals(pyramid, img_shape)
        dets, labels, rois_final = self.cascade(pyramid[:4], props, img_shape)
        masks = self.masks(pyramid[:4], dets[:, :4], labels)
        return dict(proposals=props, proposal_scores=prop_scores, boxes=dets[:, :4], scores=dets[:, 4], labels=labels, mask_probs=masks)

    # -- RPN -------------------------------------------------------------------------------------
    def proposals(self, pyramid, img_shape):
        cfg = self.test_cfg["rpn"]
        boxes, scores, ids = [], [], []
        for lvl, feat in enumerate(pyramid):
            cls, reg = self.rpn_head(feat)
            s = cls[0].permute(1, 2, 0).reshape(-1).sigmoid()
            d = reg[0].permute(1, 2, 0).reshape(-1, 4)
            a = anchors(self.strides[lvl], feat.shape[2], feat.shape[3])
            s, order = s.sort(descending=True)
            s, order = s[: cfg["nms_pre"]], order[: cfg["nms_pre"]]
            boxes.append(delta2bbox(a[order], d[order], (1.0,) * 4, img_shape))
            scores.append(s)
            ids.append(torch.full((len(s),), lvl))
        b, s, i = torch.cat(boxes), torch.cat(scores), torch.cat(ids)
        valid = ((b[:, 2] - b[:, 0]) > 0) & ((b[:, 3] - b[:, 1]) > 0)
        b, s, i = b[valid], s[valid], i[valid]
        keep = groupwise_nms(b, s, i, cfg["iou"])[: cfg["max_per_img"]]
        return b[keep], s[keep]

    # -- cascade box heads -----------------------------------------------------------------------
    def pool(self, feats, rois, size):
        scale = torch.sqrt((rois[:, 2] - rois[:, 0]) * (rois[:, 3] - rois[:, 1]))
        lvl = torch.floor(torch.log2(scale / 56 + 1e-6)).clamp(0, 3).long()
        out = feats[0].new_zeros((rois.shape[0], feats[0].shape[1], size, size))
        for l in range(4):
            idx = (lvl == l).nonzero().reshape(-1)
            if len(idx):
                r = torch.cat([torch.zeros(len(idx), 1), rois[idx]], dim=1)
                out[idx] = roi_align(feats[l], r, size, 1 / self.strides[l], 0, True)
        return out

    def cascade(self, feats, rois, img_shape):
        cfg = self.test_cfg["rcnn"]
        ms_scores = []
        n = len(self.stage_stds)
        for s in range(n):
            head = self.roi_head.bbox_head[s]
            cls, reg = head(self.pool(feats, rois, 7))
            ms_scores.append(cls)
            if s < n - 1:
                label = cls[:, :-1].argmax(dim=1)
                if not head.agnostic:
                    inds = torch.stack((4 * label, 4 * label + 1, 4 * label + 2, 4 * label + 3), 1)
                    reg = torch.gather(reg, 1, inds)
                rois = delta2bbox(rois, reg, self.stage_stds[s], img_shape)
        cls = sum(ms_scores) / float(len(ms_scores))
        scores = F.softmax(cls, dim=-1)[:, :-1]
        last = self.roi_head.bbox_head[-1]
        c = self.classes
        if last.agnostic:
            boxes = delta2bbox(rois, reg, self.stage_stds[-1], img_shape)[:, None].expand(-1, c, 4)
        else:
            boxes = delta2bbox(rois.repeat_interleave(c, 0), reg.reshape(-1, 4), self.stage_stds[-1], img_shape).reshape(-1, c, 4)
        labels = torch.arange(c)[None].expand(len(rois), c).reshape(-1)
        boxes, scores = boxes.reshape(-1, 4), scores.reshape(-1)
        valid = scores > cfg["score_thr"]
        boxes, scores, labels = boxes[valid], scores[valid], labels[valid]
        keep = groupwise_nms(boxes, scores, labels, cfg["iou"])[: cfg["max_per_img"]]
        return torch.cat([boxes[keep], scores[keep, None]], 1), labels[keep], rois

    def masks(self, feats, boxes, labels):
        if len(boxes) == 0:
            return torch.zeros(0, 28, 28)
        pooled = self.pool(feats, boxes, 14)
        probs = [head(pooled).sigmoid().numpy() for head in self.roi_head.mask_head]
        import numpy as np

        merged = torch.from_numpy(np.mean(probs, axis=0))
        return merged[torch.arange(len(labels)), labels]


def anchors(stride, h, w):
    ratios = torch.tensor([0.5, 1.0, 2.0])
    hr = torch.sqrt(ratios)
    wr = 1 / hr
    ws = stride * wr * 8
    hs = stride * hr * 8
    base = torch.stack([-0.5 * ws, -0.5 * hs, 0.5 * ws, 0.5 * hs], dim=-1)
    sx = torch.arange(w) * stride
    sy = torch.arange(h) * stride
    yy, xx = torch.meshgrid(sy, sx, indexing="ij")
    shifts = torch.stack([xx.reshape(-1), yy.reshape(-1), xx.reshape(-1), yy.reshape(-1)], dim=-1).float()
    return (base[None] + shifts[:, None]).reshape(-1, 4)


def delta2bbox(rois, deltas, stds, max_shape=None):
    """DeltaXYWHBBoxCoder.decode (means 0): dw/dh clamped to |log(16/1000)|, clipped to max_shape (h, w) when given."""
    d = deltas * torch.tensor(stds, dtype=deltas.dtype)
    dx, dy, dw, dh = d.unbind(-1)
    dw = dw.clamp(-WH_CLIP, WH_CLIP)
    dh = dh.clamp(-WH_CLIP, WH_CLIP)
    px = (rois[:, 0] + rois[:, 2]) * 0.5
    py = (rois[:, 1] + rois[:, 3]) * 0.5
    pw = rois[:, 2] - rois[:, 0]
    ph = rois[:, 3] - rois[:, 1]
    gw = pw * dw.exp()
    gh = ph * dh.exp()
    gx = px + pw * dx
    gy = py + ph * dy
    x1, y1, x2, y2 = gx - gw * 0.5, gy - gh * 0.5, gx + gw * 0.5, gy + gh * 0.5
    if max_shape is not None:
        h, w = max_shape
        x1, y1, x2, y2 = x1.clamp(0, w), y1.clamp(0, h), x2.clamp(0, w), y2.clamp(0, h)
    return torch.stack([x1, y1, x2, y2], dim=-1)


def groupwise_nms(boxes, scores, groups, iou):
    """NMS within each group; indices kept, by score descending."""
    keep = []
    for g in groups.unique():
        idx = (groups == g).nonzero().reshape(-1)
        keep.append(idx[nms(boxes[idx], scores[idx], iou)])
    if not keep:
        return torch.zeros(0, dtype=torch.long)
    keep = torch.cat(keep)
    return keep[scores[keep].sort(descending=True)[1]]
