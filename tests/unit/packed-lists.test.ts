import { compactValue, expandValue, jsonBytes, packKeys, unpackKeys } from '../../src/domain/packed-lists';

const base = 'http://127.0.0.1:3002/openvod-dev-media/1500000001/5000000000000000001';
const roundTrip = (v: unknown) => expandValue(JSON.parse(JSON.stringify(compactValue(v))));

describe('packKeys / unpackKeys (the media library and the tasks table share them)', () => {
  it('packs a numbered run with a step, and names that are not one run', () => {
    const offsets = Array.from({ length: 100 }, (_, i) => i * 1000);
    const urls = offsets.map((ms) => `${base}/snapshotByTimeOffset/10/${ms}.jpg`);
    const packed = packKeys(urls);
    expect(packed.$keys).toEqual({
      dir: `${base}/snapshotByTimeOffset/10/`,
      pre: '',
      from: 0,
      to: 99_000,
      step: 1000,
      post: '.jpg',
    });
    expect(unpackKeys(packed.$keys)).toEqual(urls);
    // A step of 1 is not written: the media library's items keep their shape.
    expect(packKeys(['a/1.jpg', 'a/2.jpg']).$keys).toEqual({
      dir: 'a/',
      pre: '',
      from: 1,
      to: 2,
      post: '.jpg',
    });
    for (const names of [
      ['3.jpg', '2.jpg', '1.jpg'], // descending
      ['1.jpg', '2.jpg', '4.jpg'],
      ['9007199254740991.jpg', '9007199254740992.jpg', '9007199254740993.jpg'], // past safe integers
      ['x1.jpg', 'y2.jpg', 'x3.jpg'],
    ]) {
      const keys = names.map((n) => `d/${n}`);
      const p = packKeys(keys);
      expect(p.$keys.names).toEqual(names);
      expect(unpackKeys(p.$keys)).toEqual(keys);
    }
    // Leading zeros are part of the prefix ('0' + 1, 2, 3), never a number read back without its zero.
    const zeros = ['d/01.jpg', 'd/02.jpg', 'd/03.jpg'];
    expect(packKeys(zeros).$keys).toMatchObject({ pre: '0', from: 1, to: 3 });
    expect(unpackKeys(packKeys(zeros).$keys)).toEqual(zeros);
    const mixed = ['d/09.jpg', 'd/010.jpg', 'd/011.jpg'];
    expect(unpackKeys(packKeys(mixed).$keys)).toEqual(mixed);
  });
});

describe('compactValue / expandValue', () => {
  it('a 3-hour SampleSnapshot every second (10,800 URLs) takes a few hundred bytes and comes back whole', () => {
    const out = {
      Definition: 10,
      SampleType: 'Time',
      Interval: 1,
      ImageUrlSet: Array.from({ length: 10_800 }, (_, i) => `${base}/sampleSnapshot/10/${i + 1}.jpg`),
      WaterMarkDefinition: [],
    };
    expect(jsonBytes(out)).toBeGreaterThan(900_000);
    const compact = compactValue(out);
    expect(jsonBytes(compact)).toBeLessThan(400);
    expect(compact).toMatchObject({ ImageUrlSet: { $keys: { from: 1, to: 10_800, post: '.jpg' } } });
    expect(roundTrip(out)).toEqual(out);
  });

  it('a regular PicInfoSet becomes columns (offsets as a run, URLs as a range, the same watermark list once)', () => {
    const out = {
      Definition: 10,
      PicInfoSet: Array.from({ length: 200 }, (_, i) => ({
        TimeOffset: i * 500,
        Url: `${base}/snapshotByTimeOffset/10/${i * 500}.jpg`,
        WaterMarkDefinition: [],
      })),
    };
    const compact = compactValue(out);
    expect(jsonBytes(compact)).toBeLessThan(400);
    expect(compact).toMatchObject({
      PicInfoSet: {
        $rows: {
          n: 200,
          keys: ['TimeOffset', 'Url', 'WaterMarkDefinition'],
          cols: [
            { $seq: { from: 0, step: 500, n: 200 } },
            { $keys: { from: 0, to: 99_500, step: 500 } },
            { $same: { n: 200, value: [] } },
          ],
        },
      },
    });
    const back = roundTrip(out) as typeof out;
    expect(back).toEqual(out);
    // Key order as produced (the JSON answered is the same text).
    expect(JSON.stringify(back)).toBe(JSON.stringify(out));
  });

  it('irregular lists come back exactly: offsets as a list, names with their folder', () => {
    const offsets = [0, 1234, 1500, 7000.5, 7001, 20_000, 3];
    const out = {
      PicInfoSet: offsets.map((ms) => ({
        TimeOffset: ms,
        Url: `${base}/s/${ms}.jpg`,
        WaterMarkDefinition: [],
      })),
      Mixed: [1, 'a', null, { x: 1 }, [2], true],
      Floats: [0.1, 0.2, 0.30000000000000004, 0.4],
      NoFolder: ['a', 'b', 'c', 'd'],
      Odd: [{ a: 1, b: 2 }, { b: 2, a: 1 }, { a: 1 }, { a: 1, b: 3 }],
      Short: [`${base}/1.jpg`, `${base}/2.jpg`],
      Empty: [],
      Nested: { deeper: [{ ImageUrlSet: ['q/1.png', 'q/2.png', 'q/3.png', 'q/4.png'] }] },
      Unicode: ['d/é 1.jpg', 'd/é 2.jpg', 'd/ü.jpg', 'd/ß.jpg'],
    };
    const compact = compactValue(out) as { PicInfoSet: { $rows: { cols: unknown[] } }; NoFolder: unknown };
    expect(compact.PicInfoSet.$rows.cols[0]).toEqual(offsets);
    expect(compact.NoFolder).toEqual(['a', 'b', 'c', 'd']);
    const back = roundTrip(out);
    expect(back).toEqual(out);
    expect(JSON.stringify(back)).toBe(JSON.stringify(out));
  });

  it('round-trips random lists, regular and not', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let t = 0; t < 300; t++) {
      const n = rand(40);
      const step = 1 + rand(3);
      const from = rand(5);
      const regular = rand(2) === 0;
      const nums = Array.from({ length: n }, (_, i) => (regular ? from + step * i : rand(1000)));
      const out = {
        Urls: nums.map(
          (x) =>
            `${base}/k/${['', 'p_'][rand(2) * (regular ? 0 : 1)]}${x}.${regular ? 'jpg' : ['jpg', 'png'][rand(2)]}`,
        ),
        Nums: nums,
        Rows: nums.map((x) => ({ TimeOffset: x, Url: `u/${x}.jpg`, W: rand(2) ? [] : [x] })),
      };
      expect(roundTrip(out)).toEqual(out);
    }
  });

  it('leaves a value without compacted lists as it is (outputs stored before compaction, and twice expanded)', () => {
    const old = {
      Definition: 10,
      ImageUrlSet: ['a/1.jpg', 'a/2.jpg', 'a/3.jpg', 'a/4.jpg', 'a/5.jpg'],
      PicInfoSet: [{ TimeOffset: 0, Url: 'a/0.jpg', WaterMarkDefinition: [] }],
      Meta: { keys: 1, $other: 2 },
    };
    expect(expandValue(old)).toEqual(old);
    expect(expandValue(expandValue(compactValue(old)))).toEqual(old);
  });
});
