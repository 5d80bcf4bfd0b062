#!/usr/bin/env bash
# Local simulation of the GPU machine for run.sh: a private mount+net namespace where node, Xvfb, xkbcomp, the xkb
# data, Mesa's DRI drivers and every X/GL/Mesa/LLVM library are gone (overlay whiteouts), /tmp and /opt are empty
# tmpfs, and only a copy of .gpucheck is there. Base libraries (libstdc++, libz, liblzma, ...) stay, as on a CUDA image.
#   bash .gpucheck/sim.sh            -> output in /var/tmp/gpucheck-sim/out
set -euo pipefail
G="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
S=/var/tmp/gpucheck-sim
rm -rf "$S" && mkdir -p "$S/repo" "$S/out" "$S/ovl"
cp -r "$G" "$S/repo/.gpucheck"
export SIM_NO_XZ="${SIM_NO_XZ:-0}"
exec unshare -mn bash -c '
set -e
S='"$S"'
ovl() { mkdir -p $S/ovl/$2/u $S/ovl/$2/w; mount -t overlay overlay -o lowerdir=$1,upperdir=$S/ovl/$2/u,workdir=$S/ovl/$2/w $1; }
ovl /usr/bin bin
ovl /usr/lib/x86_64-linux-gnu lib
ovl /usr/share share
cd /usr/bin && rm -f node nodejs npx npm Xvfb xvfb-run xkbcomp Xorg
[ "${SIM_NO_XZ:-0}" = 1 ] && rm -f xz unxz xzcat
cd /usr/lib/x86_64-linux-gnu && rm -rf dri libGL* libEGL* libOpenGL* libGLX* libGLES* libglapi* libgbm* libX* libxcb* libxkbfile* \
  libxshmfence* libdrm* libLLVM* libz3* libxml2* libicu* libpixman* libXfont* libfontenc* libfreetype* libpng16* libbrotli* \
  libunwind* libsensors* libelf* libpciaccess* libwayland* libedit* libvulkan*
rm -rf /usr/share/X11/xkb /usr/share/glvnd /usr/share/fonts/X11
mount -t tmpfs none /tmp && mount -t tmpfs none /opt
ip link set lo up 2>/dev/null || true
echo "sim: node=$(command -v node || echo none) Xvfb=$(command -v Xvfb || echo none) libX11=$(ls /usr/lib/x86_64-linux-gnu/libX11.so.6 2>/dev/null || echo none)"
cd $S/repo && OUT=$S/out bash .gpucheck/run.sh
'
