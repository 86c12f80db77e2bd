/**
 * Finds ffmpeg and ffprobe, in this order:
 *   1. OPENVOD_FFMPEG_PATH / OPENVOD_FFPROBE_PATH (explicit; a wrong path is an error, not a fallback);
 *   2. the Lambda layer: /opt/bin/ffmpeg and /opt/bin/ffprobe;
 *   3. the `ffmpeg-static` package (an optional dependency; `ffprobe-static` for ffprobe), when installed;
 *   4. the system PATH;
 *   5. `@ffmpeg-installer/ffmpeg` / `@ffprobe-installer/ffprobe` (installed by `npm ci`, no internet needed).
 * Each binary is looked up along the same order (ffmpeg-static has no ffprobe, so ffprobe may come from a later
 * source); `source` says where ffmpeg came from. The answer is cached per env object.
 */
import { accessSync, constants, statSync } from 'node:fs';
import * as path from 'node:path';

export type FfmpegSource = 'env' | 'layer' | 'ffmpeg-static' | 'path' | 'npm-installer';

export interface FfmpegBinaries {
  ffmpeg: string;
  ffprobe: string;
  source: FfmpegSource;
}

export interface ResolveDeps {
  /** Directory of the Lambda layer's binaries. */
  layerDir: string;
  /** Loads an optional package; undefined when it is not installed. */
  load: (name: string) => unknown;
}

type Env = Record<string, string | undefined>;

const cache = new WeakMap<object, FfmpegBinaries>();

export function resolveFfmpeg(env: Env = process.env): FfmpegBinaries {
  const hit = cache.get(env);
  if (hit) return hit;
  const found = resolveFfmpegWith(env, { layerDir: '/opt/bin', load: loadOptional });
  cache.set(env, found);
  return found;
}

function loadOptional(name: string): unknown {
  try {
    // A computed name: bundlers must not try to include these optional packages.
    const req = require as (id: string) => unknown;
    return req(name);
  } catch {
    return undefined;
  }
}

export function isExecutable(file: string | undefined): file is string {
  if (!file) return false;
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(env: Env, name: string): string | undefined {
  const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean);
  const names = process.platform === 'win32' ? [`${name}.exe`, name] : [name];
  for (const dir of dirs) {
    for (const n of names) {
      const candidate = path.join(dir, n);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

function packagePath(mod: unknown): string | undefined {
  if (typeof mod === 'string') return mod;
  if (
    mod &&
    typeof mod === 'object' &&
    'path' in mod &&
    typeof (mod as { path: unknown }).path === 'string'
  ) {
    return (mod as { path: string }).path;
  }
  return undefined;
}

/** The lookup with its outside world injected (tests give a temporary layer dir and fake packages). */
export function resolveFfmpegWith(env: Env, deps: ResolveDeps): FfmpegBinaries {
  const tried: string[] = [];
  const explicit = (name: 'OPENVOD_FFMPEG_PATH' | 'OPENVOD_FFPROBE_PATH'): string | undefined => {
    const v = env[name]?.trim();
    if (!v) return undefined;
    if (!isExecutable(v)) throw new Error(`${name}=${v} is not an executable file; fix the path or unset it`);
    return v;
  };

  const sources: Array<{ source: FfmpegSource; find: (bin: 'ffmpeg' | 'ffprobe') => string | undefined }> = [
    {
      source: 'env',
      find: (bin) => {
        const direct = explicit(bin === 'ffmpeg' ? 'OPENVOD_FFMPEG_PATH' : 'OPENVOD_FFPROBE_PATH');
        if (direct || bin === 'ffmpeg') return direct;
        // ffprobe next to an explicit ffmpeg.
        const ffmpeg = env.OPENVOD_FFMPEG_PATH?.trim();
        const sibling = ffmpeg
          ? path.join(path.dirname(ffmpeg), path.basename(ffmpeg).replace(/ffmpeg/i, 'ffprobe'))
          : undefined;
        return sibling && sibling !== ffmpeg && isExecutable(sibling) ? sibling : undefined;
      },
    },
    {
      source: 'layer',
      find: (bin) =>
        isExecutable(path.join(deps.layerDir, bin)) ? path.join(deps.layerDir, bin) : undefined,
    },
    {
      source: 'ffmpeg-static',
      find: (bin) => {
        const p = packagePath(deps.load(bin === 'ffmpeg' ? 'ffmpeg-static' : 'ffprobe-static'));
        return isExecutable(p) ? p : undefined;
      },
    },
    { source: 'path', find: (bin) => onPath(env, bin) },
    {
      source: 'npm-installer',
      find: (bin) => {
        const p = packagePath(
          deps.load(bin === 'ffmpeg' ? '@ffmpeg-installer/ffmpeg' : '@ffprobe-installer/ffprobe'),
        );
        return isExecutable(p) ? p : undefined;
      },
    },
  ];

  const lookup = (bin: 'ffmpeg' | 'ffprobe'): { file: string; source: FfmpegSource } | undefined => {
    for (const s of sources) {
      const file = s.find(bin);
      if (file) return { file, source: s.source };
      tried.push(`${s.source}(${bin})`);
    }
    return undefined;
  };

  const ffmpeg = lookup('ffmpeg');
  const ffprobe = lookup('ffprobe');
  if (!ffmpeg || !ffprobe) {
    const missing = [!ffmpeg && 'ffmpeg', !ffprobe && 'ffprobe'].filter(Boolean).join(' and ');
    throw new Error(
      `${missing} not found: set OPENVOD_FFMPEG_PATH and OPENVOD_FFPROBE_PATH, deploy the ffmpeg layer (/opt/bin), ` +
        `install ffmpeg on the PATH, or run \`npm ci\` so @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe provide them ` +
        `(looked in: ${tried.join(', ')})`,
    );
  }
  return { ffmpeg: ffmpeg.file, ffprobe: ffprobe.file, source: ffmpeg.source };
}
