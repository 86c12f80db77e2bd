import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { resolveFfmpeg, resolveFfmpegWith, type ResolveDeps } from '../../../src/media/ffmpeg-path';

/** Temporary directories holding fake executables, one per source. */
let root: string;
const fake = (dir: string, name: string, executable = true): string => {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, '#!/bin/sh\nexit 0\n');
  chmodSync(file, executable ? 0o755 : 0o644);
  return file;
};
const dirs = () => ({
  env: path.join(root, 'env'),
  layer: path.join(root, 'layer'),
  staticPkg: path.join(root, 'ffmpeg-static'),
  pathA: path.join(root, 'path-a'),
  pathB: path.join(root, 'path-b'),
  installer: path.join(root, 'installer'),
  empty: path.join(root, 'empty'),
});

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'openvod-resolve-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Deps with a layer dir and a fake package table (absent packages load as undefined). */
const deps = (layerDir: string, packages: Record<string, unknown> = {}): ResolveDeps => ({
  layerDir,
  load: (name) => packages[name],
});

describe('resolveFfmpegWith: the lookup order', () => {
  test('1. OPENVOD_FFMPEG_PATH / OPENVOD_FFPROBE_PATH win over everything', () => {
    const d = dirs();
    const ffmpeg = fake(d.env, 'my-ffmpeg');
    const ffprobe = fake(d.env, 'my-ffprobe');
    fake(d.layer, 'ffmpeg');
    fake(d.layer, 'ffprobe');
    const r = resolveFfmpegWith(
      { OPENVOD_FFMPEG_PATH: ffmpeg, OPENVOD_FFPROBE_PATH: ffprobe, PATH: d.layer },
      deps(d.layer),
    );
    expect(r).toEqual({ ffmpeg, ffprobe, source: 'env' });
  });

  test('an explicit ffmpeg finds its ffprobe next to it', () => {
    const d = dirs();
    const ffmpeg = fake(d.env, 'ffmpeg');
    const ffprobe = fake(d.env, 'ffprobe');
    expect(resolveFfmpegWith({ OPENVOD_FFMPEG_PATH: ffmpeg }, deps(d.empty))).toEqual({
      ffmpeg,
      ffprobe,
      source: 'env',
    });
  });

  test('an explicit path that is not an executable is an error, not a fallback', () => {
    const d = dirs();
    const notExec = fake(d.env, 'ffmpeg', false);
    fake(d.layer, 'ffmpeg');
    fake(d.layer, 'ffprobe');
    expect(() => resolveFfmpegWith({ OPENVOD_FFMPEG_PATH: notExec }, deps(d.layer))).toThrow(
      /OPENVOD_FFMPEG_PATH=.* is not an executable file/,
    );
    expect(() =>
      resolveFfmpegWith({ OPENVOD_FFMPEG_PATH: path.join(d.env, 'missing') }, deps(d.layer)),
    ).toThrow(/not an executable/);
  });

  test('2. the Lambda layer comes before ffmpeg-static, PATH and the npm installer', () => {
    const d = dirs();
    const ffmpeg = fake(d.layer, 'ffmpeg');
    const ffprobe = fake(d.layer, 'ffprobe');
    fake(d.pathA, 'ffmpeg');
    fake(d.pathA, 'ffprobe');
    const r = resolveFfmpegWith(
      { PATH: d.pathA },
      deps(d.layer, {
        'ffmpeg-static': fake(d.staticPkg, 'ffmpeg'),
        '@ffmpeg-installer/ffmpeg': { path: fake(d.installer, 'ffmpeg') },
      }),
    );
    expect(r).toEqual({ ffmpeg, ffprobe, source: 'layer' });
  });

  test('3. ffmpeg-static (a path string) before PATH; its missing ffprobe comes from the next source', () => {
    const d = dirs();
    const staticFfmpeg = fake(d.staticPkg, 'ffmpeg');
    fake(d.pathA, 'ffmpeg');
    const pathProbe = fake(d.pathA, 'ffprobe');
    const r = resolveFfmpegWith({ PATH: d.pathA }, deps(d.empty, { 'ffmpeg-static': staticFfmpeg }));
    expect(r).toEqual({ ffmpeg: staticFfmpeg, ffprobe: pathProbe, source: 'ffmpeg-static' });
  });

  test('ffmpeg-static installed without its binary (null) is skipped', () => {
    const d = dirs();
    const ffmpeg = fake(d.pathA, 'ffmpeg');
    const ffprobe = fake(d.pathA, 'ffprobe');
    expect(resolveFfmpegWith({ PATH: d.pathA }, deps(d.empty, { 'ffmpeg-static': null }))).toEqual({
      ffmpeg,
      ffprobe,
      source: 'path',
    });
  });

  test('4. PATH: the first directory holding an executable wins; non-executables are skipped', () => {
    const d = dirs();
    fake(d.pathA, 'ffmpeg', false);
    const ffmpeg = fake(d.pathB, 'ffmpeg');
    const ffprobe = fake(d.pathA, 'ffprobe');
    fake(d.pathB, 'ffprobe');
    const r = resolveFfmpegWith(
      { PATH: [d.empty, d.pathA, d.pathB].join(path.delimiter) },
      deps(d.empty, { '@ffmpeg-installer/ffmpeg': { path: fake(d.installer, 'ffmpeg') } }),
    );
    expect(r).toEqual({ ffmpeg, ffprobe, source: 'path' });
  });

  test('5. the npm installers last', () => {
    const d = dirs();
    const ffmpeg = fake(d.installer, 'ffmpeg');
    const ffprobe = fake(d.installer, 'ffprobe');
    const r = resolveFfmpegWith(
      { PATH: d.empty },
      deps(d.empty, {
        '@ffmpeg-installer/ffmpeg': { path: ffmpeg },
        '@ffprobe-installer/ffprobe': { path: ffprobe },
      }),
    );
    expect(r).toEqual({ ffmpeg, ffprobe, source: 'npm-installer' });
  });

  test('nothing anywhere: a clear error naming the ways out', () => {
    const d = dirs();
    expect(() => resolveFfmpegWith({ PATH: d.empty }, deps(d.empty))).toThrow(
      /ffmpeg and ffprobe not found: set OPENVOD_FFMPEG_PATH.*\/opt\/bin.*PATH.*npm ci/,
    );
  });
});

describe('resolveFfmpeg', () => {
  test('finds a working pair on this machine and caches per env object', () => {
    const env = { ...process.env };
    const a = resolveFfmpeg(env);
    expect(a.ffmpeg).toMatch(/ffmpeg/);
    expect(a.ffprobe).toMatch(/ffprobe/);
    expect(resolveFfmpeg(env)).toBe(a);
    expect(resolveFfmpeg({ ...env })).not.toBe(a);
  });

  test('with an empty PATH it falls back to the npm installers', () => {
    const r = resolveFfmpeg({ PATH: '' });
    expect(r.source).toBe('npm-installer');
    expect(r.ffmpeg).toContain('@ffmpeg-installer');
    expect(r.ffprobe).toContain('@ffprobe-installer');
  });
});
