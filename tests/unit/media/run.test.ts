import { PermanentError, TransientError } from '../../../src/domain/errors';
import { diagnose, toError, Tail } from '../../../src/media/diagnose';
import { parseProgressChunk, RUNNER_ARGS, type ProgressState } from '../../../src/media/run';

const start: ProgressState = { pending: '', ended: false };

describe('parseProgressChunk', () => {
  test('reads out_time_us from a block', () => {
    const s = parseProgressChunk(
      start,
      'frame=10\nfps=0.0\nout_time_us=400000\nout_time_ms=400000\nout_time=00:00:00.400000\nprogress=continue\n',
    );
    expect(s).toEqual({ pending: '', outTimeSeconds: 0.4, ended: false });
  });

  test('keeps a partial line for the next chunk', () => {
    let s = parseProgressChunk(start, 'out_time_us=1500');
    expect(s.outTimeSeconds).toBeUndefined();
    expect(s.pending).toBe('out_time_us=1500');
    s = parseProgressChunk(s, '000\nprogress=continue\n');
    expect(s.outTimeSeconds).toBe(1.5);
  });

  test('out_time_ms is microseconds too (ffmpeg misnomer), used by old ffmpeg without out_time_us', () => {
    expect(parseProgressChunk(start, 'out_time_ms=2500000\nprogress=continue\n').outTimeSeconds).toBe(2.5);
  });

  test('out_time as a clock when nothing else', () => {
    expect(parseProgressChunk(start, 'out_time=01:02:03.500000\nprogress=continue\n').outTimeSeconds).toBe(
      3723.5,
    );
  });

  test('ignores N/A and negative times before the first frame, and never goes back', () => {
    let s = parseProgressChunk(start, 'out_time_us=N/A\nout_time_ms=N/A\nprogress=continue\n');
    expect(s.outTimeSeconds).toBeUndefined();
    s = parseProgressChunk(
      s,
      'out_time_us=-23220\nprogress=continue\nout_time_us=3000000\nprogress=continue\n',
    );
    expect(s.outTimeSeconds).toBe(3);
    s = parseProgressChunk(s, 'out_time_us=2000000\nprogress=continue\n');
    expect(s.outTimeSeconds).toBe(3);
  });

  test('progress=end marks the end; CRLF lines are fine', () => {
    const s = parseProgressChunk(start, 'out_time_us=4000000\r\nprogress=end\r\n');
    expect(s).toMatchObject({ outTimeSeconds: 4, ended: true });
  });

  test('the runner flags', () => {
    expect(RUNNER_ARGS).toEqual([
      '-hide_banner',
      '-nostdin',
      '-y',
      '-progress',
      'pipe:1',
      '-nostats',
      '-loglevel',
      'error',
    ]);
  });
});

describe('diagnose (stderr → error)', () => {
  const input = '/tmp/in.mp4';
  test.each([
    [
      '/tmp/in.mp4: Invalid data found when processing input',
      'source',
      /not a valid media file \(Invalid data found when processing input\)/,
    ],
    [
      '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5] moov atom not found\n/tmp/in.mp4: Invalid data found when processing input',
      'source',
      /truncated or not an MP4\/MOV file \(moov atom not found\)/,
    ],
    ['[h264 @ 0x1] Could not find codec parameters for stream 0', 'source', /cannot be decoded/],
    [
      '[https @ 0x1] HTTP error 404 Not Found\nhttps://x/a.mp4: Server returned 404 Not Found',
      'source',
      /^the source URL answered HTTP 404/,
    ],
    ['https://x/a.mp4: Server returned 403 Forbidden (access denied)', 'source', /HTTP 403 \(access denied/],
    ['/tmp/in.mp4: No such file or directory', 'source', /does not exist/],
    ['https://x/a.mp4: Server returned 5XX Server Error reply', 'transient', /HTTP 5xx/],
    ['https://x/a.mp4: Server returned 503 Service Unavailable', 'transient', /HTTP 503/],
    ['[tcp @ 0x1] Connection to tcp://x:443 failed: Connection refused', 'transient', /Connection refused/],
    ['https://x/a.mp4: Connection reset by peer', 'transient', /Connection reset/],
    ['[https @ 0x1] Connection timed out', 'transient', /timed out/],
    ["Unknown encoder 'libfdk_aac'", 'parameter', /encoder this ffmpeg does not have/],
    ['[Parsed_scale_0 @ 0x1] Error initializing filter', 'parameter', /cannot be applied/],
    ['Error initializing complex filters.\nInvalid argument', 'parameter', /cannot be applied/],
    ['/tmp/in.mp4: Invalid argument', 'source', /could not be opened \(Invalid argument\)/],
    [
      '[mp4 @ 0x1] Could not find tag for codec vp8 in stream #0, codec not currently supported in container',
      'source',
      /cannot be put into this container/,
    ],
    ['/tmp/out/video.mp4: No such file or directory', 'internal', /output could not be written/],
    [
      'something odd happened\nConversion failed!',
      'internal',
      /processing failed \(something odd happened\)/,
    ],
  ])('%s → %s', (stderr, kind, message) => {
    const d = diagnose(stderr, { input });
    expect(d.kind).toBe(kind);
    expect(d.message).toMatch(message);
  });

  test('toError: 60000 / 40000 / transient / 70000', () => {
    const src = toError({ kind: 'source', message: 'm' });
    expect(src).toBeInstanceOf(PermanentError);
    expect((src as PermanentError).errCode).toBe(60000);
    expect((toError({ kind: 'parameter', message: 'm' }) as PermanentError).errCode).toBe(40000);
    expect(toError({ kind: 'transient', message: 'm' })).toBeInstanceOf(TransientError);
    expect((toError({ kind: 'internal', message: 'm' }) as PermanentError).errCode).toBe(70000);
  });

  test('Tail keeps the last characters', () => {
    const t = new Tail(10);
    for (let i = 0; i < 100; i++) t.push(`line ${i}\n`);
    expect(t.toString()).toBe('8\nline 99\n');
    expect(t.toString()).toHaveLength(10);
  });
});
