import { even, fitInside, outputSize } from '../../../src/media/resolution';

type Row = [
  name: string,
  src: [number, number],
  template: [number, number],
  ra: 'open' | 'close',
  expected: [number, number],
  allowUpscale?: boolean,
];

describe('outputSize', () => {
  const rows: Row[] = [
    // Tencent presets: Width 0, Height = short side ("proportionally scaled × N").
    ['landscape 1080p to 720p short side', [1920, 1080], [0, 720], 'open', [1280, 720]],
    ['portrait phone to 720p short side keeps portrait', [1080, 1920], [0, 720], 'open', [720, 1280]],
    ['4:3 source to 360p', [640, 480], [0, 360], 'open', [480, 360]],
    ['square counts as landscape', [1000, 1000], [0, 360], 'open', [360, 360]],
    ['21:9 source to 360p', [2560, 1080], [0, 360], 'open', [854, 360]],
    [
      'no upscale: small source with a larger preset keeps its size',
      [320, 192],
      [0, 720],
      'open',
      [320, 192],
    ],
    ['upscale when allowed', [320, 180], [0, 720], 'open', [1280, 720], true],
    // Both 0: the source size, rounded down to even.
    ['0/0 is the source size', [1280, 720], [0, 0], 'open', [1280, 720]],
    ['0/0 with odd sizes rounds down to even', [321, 241], [0, 0], 'open', [320, 240]],
    ['0/0 odd portrait', [241, 321], [0, 0], 'close', [240, 320]],
    // One side 0.
    ['width only, close', [1920, 1080], [1280, 0], 'close', [1280, 720]],
    ['height only, close, portrait source (no swap)', [1080, 1920], [0, 640], 'close', [360, 640]],
    ['long side only, open, portrait source', [1080, 1920], [1280, 0], 'open', [720, 1280]],
    ['odd source scaled keeps even numbers', [321, 241], [0, 120], 'open', [160, 120]],
    ['odd result rounds to even', [1000, 563], [0, 281], 'open', [500, 282]],
    // A box.
    ['box, close, same aspect', [1920, 1080], [1280, 720], 'close', [1280, 720]],
    ['box, open, portrait source gets a portrait box', [1080, 1920], [1280, 720], 'open', [720, 1280]],
    ['box, close, portrait source keeps a landscape box', [1080, 1920], [1280, 720], 'close', [1280, 720]],
    ['box bigger than the source shrinks, keeping its shape', [320, 192], [640, 360], 'close', [342, 192]],
    ['box bigger than the source, upscale allowed', [320, 192], [640, 360], 'close', [640, 360], true],
    ['odd box becomes even', [1920, 1080], [641, 359], 'close', [642, 360]],
    // Rotated phone video: the caller passes the display size (after the 90° rotation).
    ['rotated phone video (display 1080×1920) to 540 short side', [1080, 1920], [0, 540], 'open', [540, 960]],
    ['rotated phone video to a 142×80 sprite tile (open)', [1080, 1920], [142, 80], 'open', [80, 142], true],
  ];
  // (One argument per row: jest treats a callback with more parameters than the row as a `done` test.)
  test.each(rows.map((r) => ({ r })))(
    '$r.0',
    ({ r: [, [srcWidth, srcHeight], [width, height], ra, [w, h], allowUpscale] }) => {
      const out = outputSize({ srcWidth, srcHeight, width, height, resolutionAdaptive: ra, allowUpscale });
      expect(out).toEqual({ width: w, height: h });
      expect(out.width % 2).toBe(0);
      expect(out.height % 2).toBe(0);
    },
  );

  test('an unknown source size answers only an explicit box', () => {
    expect(
      outputSize({ srcWidth: 0, srcHeight: 0, width: 640, height: 360, resolutionAdaptive: 'open' }),
    ).toEqual({ width: 640, height: 360 });
    expect(
      outputSize({ srcWidth: 0, srcHeight: 0, width: 0, height: 360, resolutionAdaptive: 'open' }),
    ).toEqual({ width: 0, height: 0 });
  });

  test('fitInside keeps the aspect ratio inside a box', () => {
    expect(fitInside({ width: 640, height: 480 }, { width: 640, height: 360 })).toEqual({
      width: 480,
      height: 360,
    });
    expect(fitInside({ width: 1920, height: 800 }, { width: 640, height: 360 })).toEqual({
      width: 640,
      height: 266,
    });
    expect(fitInside({ width: 1080, height: 1920 }, { width: 1280, height: 720 })).toEqual({
      width: 406,
      height: 720,
    });
  });

  test('even', () => {
    expect([even(0), even(1), even(2.9), even(3), even(241)]).toEqual([2, 2, 2, 4, 242]);
  });
});
