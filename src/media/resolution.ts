/**
 * Tencent's output-size rules, as a pure function.
 *
 * Template fields (VideoTemplateInfo, snapshot, sprite and animated-graphic templates share them):
 * - `ResolutionAdaptive: 'open'` — `Width` is the LONG side and `Height` the SHORT side; they are applied
 *   according to the input's orientation, so a portrait input gets a portrait output. A square input counts
 *   as landscape. `'close'` — `Width` is the width and `Height` the height, whatever the input.
 * - Both 0: the source size. One 0: that side follows the aspect ratio of the source.
 * - Both set: that box. The returned size IS the box; keeping the picture's aspect ratio inside it (scale +
 *   pad with black/white, or a blurred background for `gauss`) or stretching it (`stretch`) is the plan
 *   builder's job (see `fitInside`).
 *
 * Choices where Tencent publishes nothing:
 * - Sizes are always even (yuv420p needs it) and at least 2. The source size, when it is the answer, is
 *   rounded DOWN to even (321×241 → 320×240), so an odd source is never upscaled by a pixel.
 * - No upscaling beyond the source unless `allowUpscale`: with one side given, a side larger than the
 *   source's gives the source size; with a box, if the picture would have to grow to fit the box, the whole
 *   box shrinks by that factor instead (so the picture keeps its source size and the box keeps its shape).
 * - The source size is the DISPLAY size: after rotation (a phone's 1920×1080 stream with a 90° display matrix
 *   is 1080×1920 here) and after a non-square sample aspect ratio.
 */
export type ResolutionAdaptive = 'open' | 'close';

export interface OutputSizeOptions {
  /** Display size of the source, after rotation. */
  srcWidth: number;
  srcHeight: number;
  /** Template width (or long side when open); 0 = automatic. */
  width: number;
  /** Template height (or short side when open); 0 = automatic. */
  height: number;
  resolutionAdaptive: ResolutionAdaptive;
  allowUpscale?: boolean;
}

export function outputSize(opts: OutputSizeOptions): { width: number; height: number } {
  const sw = Math.max(0, opts.srcWidth || 0);
  const sh = Math.max(0, opts.srcHeight || 0);
  let tw = Math.max(0, Math.round(opts.width || 0));
  let th = Math.max(0, Math.round(opts.height || 0));
  if (opts.resolutionAdaptive !== 'close' && sh > sw) [tw, th] = [th, tw];

  if (sw === 0 || sh === 0) {
    // Unknown source size: only an explicit box can be answered.
    if (tw > 0 && th > 0) return { width: even(tw), height: even(th) };
    return { width: 0, height: 0 };
  }
  const up = opts.allowUpscale === true;
  if (tw === 0 && th === 0) return { width: floorEven(sw), height: floorEven(sh) };

  if (tw === 0 || th === 0) {
    let scale = tw === 0 ? th / sh : tw / sw;
    if (!up && scale >= 1) return { width: floorEven(sw), height: floorEven(sh) };
    if (!up) scale = Math.min(scale, 1);
    return { width: even(sw * scale), height: even(sh * scale) };
  }

  // A box: the picture fits inside at factor f; without upscaling, f may not exceed 1.
  const f = Math.min(tw / sw, th / sh);
  if (!up && f > 1) return { width: even(tw / f), height: even(th / f) };
  return { width: even(tw), height: even(th) };
}

/** The size of a picture of size src scaled to fit inside box, keeping its aspect ratio (even numbers). */
export function fitInside(
  src: { width: number; height: number },
  box: { width: number; height: number },
): { width: number; height: number } {
  if (src.width <= 0 || src.height <= 0) return { ...box };
  const f = Math.min(box.width / src.width, box.height / src.height);
  return {
    width: Math.min(box.width, even(src.width * f)),
    height: Math.min(box.height, even(src.height * f)),
  };
}

/** Nearest even integer, at least 2. */
export function even(x: number): number {
  return Math.max(2, 2 * Math.round(x / 2));
}

function floorEven(x: number): number {
  return Math.max(2, 2 * Math.floor(x / 2));
}
