/**
 * The semantic segmentor (mmsegmentation's EncoderDecoder): a backbone (`backbone.*`),
 * a registered decode head (`decode_head.*`: UPerHead in the shipped configs), an optional auxiliary
 * head (`auxiliary_head.*`: FCNHead). Its network maps an image
 * batch to per-class logits at the input resolution (bilinear, align_corners=False), for any
 * input height and width.
 */
import type { Network, OutputRanks } from '../../core/model.js';
import type { Ops } from '../../core/ops.js';
import { Scope } from '../../core/params.js';
import { ADE20K_CLASSES, ADE20K_PALETTE } from '../../config/ade20k-classes.js';
import { buildBackbone } from '../../backbones/index.js';
import type { SegmentorConfig } from '../../config/segmentor.js';
import type { Backbone, DecodeHead } from '../../core/components.js';
import { DECODE_HEADS } from '../../heads/seg/index.js';

export type Rgb = readonly [number, number, number];

/** Options of {@link Segmentor.network}. */
export interface SegmentorNetworkOptions {
  /** Also output `aux_logits` from the auxiliary head (when the config has one). */
  auxiliary?: boolean;
  /** Upsample logits to the input size inside the network (default true, as mmseg's encode_decode). */
  upsample?: boolean;
}

/** A deterministic, well-spread palette for configs without one (golden-angle hues). */
export function defaultPalette(n: number): Rgb[] {
  const out: Rgb[] = [];
  for (let i = 0; i < n; i++) {
    const h = (i * 137.508) % 360;
    const s = 0.65 + 0.35 * ((i * 7) % 3) / 2;
    const v = 0.95 - 0.3 * ((i * 5) % 4) / 3;
    const c = v * s;
    const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
    const [r, g, b] = h < 60 ? [c, x, 0] : h < 120 ? [x, c, 0] : h < 180 ? [0, c, x] : h < 240 ? [0, x, c] : h < 300 ? [x, 0, c] : [c, 0, x];
    const m = v - c;
    out.push([Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)]);
  }
  return out;
}

export class Segmentor {
  readonly scope = Scope.root();
  readonly backbone: Backbone;
  readonly decodeHead: DecodeHead;
  readonly auxiliaryHead: DecodeHead | null;
  readonly classNames: readonly string[];
  readonly palette: readonly Rgb[];

  constructor(readonly config: SegmentorConfig) {
    this.backbone = buildBackbone(this.scope.child('backbone'), config.backbone);
    const specs = this.backbone.featureSpecs;
    const context = { numClasses: config.num_classes };
    this.decodeHead = DECODE_HEADS.build(this.scope.child('decode_head'), specs, config.decode_head, context);
    const ah = config.auxiliary_head;
    this.auxiliaryHead = ah ? DECODE_HEADS.build(this.scope.child('auxiliary_head'), specs, ah, context) : null;
    const names = config.class_names;
    this.classNames = names === 'ade20k' ? ADE20K_CLASSES : names ?? Array.from({ length: config.num_classes }, (_, i) => `class_${i}`);
    const pal = config.palette;
    this.palette = pal === 'ade20k' ? ADE20K_PALETTE : pal ?? defaultPalette(config.num_classes);
  }

  /** Head outputs from an image batch: decode logits and (when asked) auxiliary logits, at head resolution. */
  heads<T>(ops: Ops<T>, x: T, auxiliary: boolean): { logits: T; aux?: T } {
    const feats = this.backbone.forward(ops, x);
    const logits = this.decodeHead.forward(ops, feats);
    if (!auxiliary || !this.auxiliaryHead) return { logits };
    return { logits, aux: this.auxiliaryHead.forward(ops, feats) };
  }

  /**
   * The network: input `input` [N, 3, H, W] (normalised), output `logits` [N, num_classes, H, W]
   * (and `aux_logits` with `auxiliary`). Any H, W ≥ 32.
   */
  network(opts: SegmentorNetworkOptions = {}): Network {
    const aux = (opts.auxiliary ?? false) && this.auxiliaryHead !== null;
    const upsample = opts.upsample ?? true;
    const outputs: OutputRanks = aux ? { logits: 4, aux_logits: 4 } : { logits: 4 };
    return {
      registry: this.scope.registry,
      inputChannels: this.config.backbone.in_channels,
      outputs,
      forward: <T>(ops: Ops<T>, x: T) => {
        const h = this.heads(ops, x, aux);
        const up = (t: T) => (upsample ? ops.resize(t, { like: x }, 'bilinear', false) : t);
        const out: Record<string, T> = { logits: up(h.logits) };
        if (h.aux !== undefined) out.aux_logits = up(h.aux);
        return out;
      },
    };
  }
}

/** The deployable segmentor network of a config: `input` → `logits` at the input size, dynamic H and W. */
export function segmentorNetwork(cfg: SegmentorConfig): Network {
  return new Segmentor(cfg).network();
}
