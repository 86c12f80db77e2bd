#!/usr/bin/env bash
# Builds the ffmpeg Lambda layer: static ffmpeg and ffprobe under dist/bin (→ /opt/bin in Lambda).
# Sources, first found: $OPENVOD_LAYER_FFMPEG/$OPENVOD_LAYER_FFPROBE (paths to static x86-64 binaries you
# provide, e.g. a current johnvansickle.com build), else the static builds shipped inside the npm packages
# @ffmpeg-installer/linux-x64 and @ffprobe-installer/linux-x64 (no download needed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
ffmpeg="${OPENVOD_LAYER_FFMPEG:-$root/node_modules/@ffmpeg-installer/linux-x64/ffmpeg}"
ffprobe="${OPENVOD_LAYER_FFPROBE:-$root/node_modules/@ffprobe-installer/linux-x64/ffprobe}"
for b in "$ffmpeg" "$ffprobe"; do
  [ -f "$b" ] || { echo "layer build: $b not found (run npm ci, or set OPENVOD_LAYER_FFMPEG/OPENVOD_LAYER_FFPROBE)" >&2; exit 1; }
  file_type="$(head -c 4 "$b" | od -An -c | tr -d ' ')"
  [ "$file_type" = "177ELF" ] || { echo "layer build: $b is not an ELF binary" >&2; exit 1; }
done
rm -rf "$here/dist"
mkdir -p "$here/dist/bin"
cp "$ffmpeg" "$here/dist/bin/ffmpeg"
cp "$ffprobe" "$here/dist/bin/ffprobe"
chmod 755 "$here/dist/bin/ffmpeg" "$here/dist/bin/ffprobe"
"$here/dist/bin/ffmpeg" -hide_banner -version | head -1
"$here/dist/bin/ffprobe" -hide_banner -version | head -1
