/** The manifest a site `convnext web` writes (`site.json`): its models and sample images. */

/** One model file of the site. */
export interface SiteModel {
  /** Shown in the model menu. */
  name: string;
  /** Path relative to the site root. */
  file: string;
  /** 'object-detection' or 'image-segmentation'. */
  task: 'object-detection' | 'image-segmentation';
  /** Download size in bytes. */
  bytes: number;
  /** Storage of its weights (float32, float16 or int8). */
  weights: string;
}

/** The site's manifest. */
export interface SiteManifest {
  models: SiteModel[];
  /** Sample images (paths relative to the site root). */
  samples: string[];
  /** Whether the site holds onnxruntime-web's WebGPU build. */
  webgpu: boolean;
}
