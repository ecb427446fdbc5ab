/**
 * torchvision `MaskRCNN` on a ConvNeXt `BackboneWithFPN` (body = convnext `features`) → mmdetection
 * names. Class conventions differ: torchvision puts background first and predicts boxes and masks
 * for it too; mmdetection puts background last in `fc_cls` and has no background rows in `fc_reg`
 * (4 per class) or `conv_logits`. The box-delta scaling is the same math (÷(10,10,5,5) = ×(0.1,0.1,0.2,0.2)),
 * and anchors are ordered ratio-major in both, so RPN weights carry over unchanged.
 * Keys of torchvision >= 0.13 (`conv.0.0`, `mask_head.k.0`) and older (`conv`, `mask_fcn{k}`) are read.
 */
import { UserError } from '../../core/errors.js';
import type { HostTensor } from '../../core/host-tensor.js';
import type { KeyMap, KeyTarget } from './types.js';
import { BACKBONES } from '../../backbones/index.js';
import { NECKS } from '../../necks/index.js';

function rows(t: HostTensor, key: string): number {
  if (t.shape.length === 0) throw new UserError(`checkpoint key '${key}': expected at least one dimension`);
  return t.shape[0];
}

/** Moves row 0 (background) to the end. */
function backgroundLast(t: HostTensor, key: string): HostTensor {
  const n = rows(t, key);
  const per = t.data.length / n;
  const out = new Float32Array(t.data.length);
  out.set(t.data.subarray(per), 0);
  out.set(t.data.subarray(0, per), (n - 1) * per);
  return { shape: [...t.shape], data: out };
}

/** Drops the first `k` rows (the background class). */
function dropRows(k: number): (t: HostTensor, key: string) => HostTensor {
  return (t, key) => {
    const n = rows(t, key);
    if (n <= k) throw new UserError(`checkpoint key '${key}': ${n} rows, expected more than ${k}`);
    const per = t.data.length / n;
    return { shape: [n - k, ...t.shape.slice(1)], data: t.data.slice(k * per) };
  };
}

const P = '(weight|bias)';
const RULES: Array<[RegExp, (m: RegExpExecArray) => KeyTarget]> = [
  [new RegExp(`^rpn\\.head\\.conv\\.(?:0\\.0\\.)?${P}$`), (m) => ({ name: `rpn_head.rpn_conv.${m[1]}` })],
  [new RegExp(`^rpn\\.head\\.cls_logits\\.${P}$`), (m) => ({ name: `rpn_head.rpn_cls.${m[1]}` })],
  [new RegExp(`^rpn\\.head\\.bbox_pred\\.${P}$`), (m) => ({ name: `rpn_head.rpn_reg.${m[1]}` })],
  [new RegExp(`^roi_heads\\.box_head\\.fc6\\.${P}$`), (m) => ({ name: `roi_head.bbox_head.shared_fcs.0.${m[1]}` })],
  [new RegExp(`^roi_heads\\.box_head\\.fc7\\.${P}$`), (m) => ({ name: `roi_head.bbox_head.shared_fcs.1.${m[1]}` })],
  [new RegExp(`^roi_heads\\.box_predictor\\.cls_score\\.${P}$`), (m) => ({ name: `roi_head.bbox_head.fc_cls.${m[1]}`, transform: backgroundLast })],
  [new RegExp(`^roi_heads\\.box_predictor\\.bbox_pred\\.${P}$`), (m) => ({ name: `roi_head.bbox_head.fc_reg.${m[1]}`, transform: dropRows(4) })],
  [new RegExp(`^roi_heads\\.mask_head\\.(\\d)\\.0\\.${P}$`), (m) => ({ name: `roi_head.mask_head.convs.${m[1]}.conv.${m[2]}` })],
  [new RegExp(`^roi_heads\\.mask_head\\.mask_fcn([1-9])\\.${P}$`), (m) => ({ name: `roi_head.mask_head.convs.${Number(m[1]) - 1}.conv.${m[2]}` })],
  [new RegExp(`^roi_heads\\.mask_predictor\\.conv5_mask\\.${P}$`), (m) => ({ name: `roi_head.mask_head.upsample.${m[1]}` })],
  [new RegExp(`^roi_heads\\.mask_predictor\\.mask_fcn_logits\\.${P}$`), (m) => ({ name: `roi_head.mask_head.conv_logits.${m[1]}`, transform: dropRows(1) })],
];

/** torchvision MaskRCNN with a ConvNeXt body → mmdetection names. */
export const torchvisionMaskRcnnMap: KeyMap = {
  source: 'torchvision-maskrcnn',
  target: (k) => {
    // The backbone's torchvision rules: the body is torchvision's `features` module.
    const b = k.startsWith('backbone.body.') ? BACKBONES.keyRule('torchvision', `features.${k.slice('backbone.body.'.length)}`) : null;
    if (b) return { name: `backbone.${b}` };
    // The neck's own key rules (src/necks): torchvision's FPN under backbone.fpn.
    const neck = k.startsWith('backbone.fpn.') ? NECKS.keyRule('torchvision-maskrcnn', k.slice('backbone.fpn.'.length)) : null;
    if (neck) return { name: `neck.${neck}` };
    for (const [re, f] of RULES) {
      const m = re.exec(k);
      if (m) return f(m);
    }
    return null;
  },
};
