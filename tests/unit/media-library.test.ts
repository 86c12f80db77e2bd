import { packOutput, unpackOutput, mediaInfo, MEDIA_INFO_FILTERS } from '../../src/services/media-library';
import type { Media } from '../../src/domain/media';

const base = 'http://127.0.0.1:3002/openvod-dev-media';
const publicUrl = (key: string) => `${base}/${key.split('/').map(encodeURIComponent).join('/')}`;

describe('packOutput / unpackOutput', () => {
  it('stores bucket URLs as keys and numbered runs as a range, and gives the same output back', () => {
    const out = {
      Definition: 10,
      ImageUrlSet: Array.from({ length: 500 }, (_, i) => publicUrl(`1/5/sampleSnapshot/10/${i + 1}.jpg`)),
      WebVttUrl: publicUrl('1/5/imageSprite/10/sprite.vtt'),
      Other: 'https://cdn.example.com/not-ours.jpg',
    };
    const packed = packOutput(out, publicUrl);
    expect(JSON.stringify(packed).length).toBeLessThan(250);
    expect(packed).toMatchObject({
      ImageUrlSet: { $keys: { dir: '1/5/sampleSnapshot/10/', pre: '', from: 1, to: 500, post: '.jpg' } },
      WebVttUrl: '@key/1/5/imageSprite/10/sprite.vtt',
      Other: 'https://cdn.example.com/not-ours.jpg',
    });
    expect(unpackOutput(packed, publicUrl)).toEqual(out);
  });

  it('keeps names when they are not one numbered run, and keys that need encoding', () => {
    const names = ['sprite_0.jpg', 'sprite_1.jpg', 'sprite_3.jpg', 'a b é.jpg', 'sprite_10.jpg'];
    const out = {
      ImageUrlSet: names.map((n) => publicUrl(`1/5/imageSprite/10/${n}`)),
      Few: [publicUrl('x/1.jpg')],
    };
    const packed = packOutput(out, publicUrl) as {
      ImageUrlSet: { $keys: { names: string[] } };
      Few: string[];
    };
    expect(packed.ImageUrlSet.$keys.names).toEqual(names);
    expect(packed.Few).toEqual(['@key/x/1.jpg']);
    expect(unpackOutput(packed, publicUrl)).toEqual(out);
  });

  it('builds URLs for the current download base (a CDN put in front later)', () => {
    const packed = packOutput({ Url: publicUrl('1/5/transcode/100030/out.mp4') }, publicUrl);
    expect(unpackOutput(packed, (k) => `https://cdn.example.com/${k}`)).toEqual({
      Url: 'https://cdn.example.com/1/5/transcode/100030/out.mp4',
    });
  });
});

describe('mediaInfo', () => {
  const media: Media = {
    fileId: '5000000000000000001',
    subAppId: 1,
    status: 'PENDING',
    name: 'pending',
    bucket: 'b',
    key: '1/5000000000000000001/source.mov',
    createTime: '2026-01-01T00:00:00.000Z',
    updateTime: '2026-01-01T00:00:00.000Z',
  };

  it('answers every MediaInfo field of the SDK model, null where OpenVOD has nothing', () => {
    const info = mediaInfo({ publicUrl, region: 'r' }, media, [], new Set(MEDIA_INFO_FILTERS));
    expect(Object.keys(info).sort()).toEqual(
      [
        'FileId',
        'BasicInfo',
        'MetaData',
        'TranscodeInfo',
        'AnimatedGraphicsInfo',
        'SampleSnapshotInfo',
        'ImageSpriteInfo',
        'SnapshotByTimeOffsetInfo',
        'KeyFrameDescInfo',
        'AdaptiveDynamicStreamingInfo',
        'MiniProgramReviewInfo',
        'SubtitleInfo',
        'ReviewInfo',
        'MPSAiMediaInfo',
        'ImageUnderstandingInfo',
        'KnowledgeBasesInfo',
        'FaceRecognitionInfo',
      ].sort(),
    );
    // Not probed yet: no metadata and no original-file entry.
    expect(info.MetaData).toBeNull();
    expect(info.TranscodeInfo).toBeNull();
    expect(info.BasicInfo).toMatchObject({
      Type: 'mov',
      MediaUrl: publicUrl(media.key),
      CoverUrl: '',
      StorageRegion: 'r',
    });
  });
});
