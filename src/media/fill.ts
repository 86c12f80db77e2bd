/**
 * FillType: what fills the box when a template gives both a width and a height whose aspect ratio is not the
 * source's. `stretch` distorts the picture to fill the box; `black`/`white` keep the aspect ratio and pad;
 * `gauss` keeps the aspect ratio over a blurred, box-filling copy of the picture. Tencent's default: black.
 */
export type FillType = 'stretch' | 'black' | 'white' | 'gauss';

export function fillTypeOf(value: string | undefined): FillType {
  return value === 'stretch' || value === 'white' || value === 'gauss' ? value : 'black';
}
