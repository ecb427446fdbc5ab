/** ConvNeXt variants as data (depths and widths per stage), as the official repos and timm define them. */

export interface VariantDims {
  readonly depths: readonly [number, number, number, number];
  readonly dims: readonly [number, number, number, number];
}

/** ConvNeXt V1 (official repo: tiny … xlarge; timm: atto … nano). */
export const CONVNEXT_V1 = {
  atto: { depths: [2, 2, 6, 2], dims: [40, 80, 160, 320] },
  femto: { depths: [2, 2, 6, 2], dims: [48, 96, 192, 384] },
  pico: { depths: [2, 2, 6, 2], dims: [64, 128, 256, 512] },
  nano: { depths: [2, 2, 8, 2], dims: [80, 160, 320, 640] },
  tiny: { depths: [3, 3, 9, 3], dims: [96, 192, 384, 768] },
  small: { depths: [3, 3, 27, 3], dims: [96, 192, 384, 768] },
  base: { depths: [3, 3, 27, 3], dims: [128, 256, 512, 1024] },
  large: { depths: [3, 3, 27, 3], dims: [192, 384, 768, 1536] },
  xlarge: { depths: [3, 3, 27, 3], dims: [256, 512, 1024, 2048] },
} as const satisfies Record<string, VariantDims>;

/** ConvNeXt V2 (official repo: atto … huge; small as timm defines it): V1's shapes plus huge. */
export const CONVNEXT_V2 = {
  atto: CONVNEXT_V1.atto,
  femto: CONVNEXT_V1.femto,
  pico: CONVNEXT_V1.pico,
  nano: CONVNEXT_V1.nano,
  tiny: CONVNEXT_V1.tiny,
  small: CONVNEXT_V1.small,
  base: CONVNEXT_V1.base,
  large: CONVNEXT_V1.large,
  huge: { depths: [3, 3, 27, 3], dims: [352, 704, 1408, 2816] },
} as const satisfies Record<string, VariantDims>;

export type V1Variant = keyof typeof CONVNEXT_V1;
export type V2Variant = keyof typeof CONVNEXT_V2;
export const V1_VARIANTS = Object.keys(CONVNEXT_V1) as V1Variant[];
export const V2_VARIANTS = Object.keys(CONVNEXT_V2) as V2Variant[];
