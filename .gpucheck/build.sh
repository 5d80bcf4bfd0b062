#!/usr/bin/env bash
# Builds the .gpucheck bundle HERE (Debian 12 x86-64 with node_modules/gl built, xvfb + Mesa installed):
#   dist/runner.mjs      esbuild bundle: parity-suite.ts (through a vitest shim) + bench + gpu.js + gl's JS + fast-check
#   payload.tar.xz       webgl.node, Xvfb, xkbcomp, xkb data, glvnd + Mesa GLX (swrast/llvmpipe) and the shared
#                        libraries all of them need (ldd closure, glibc left out); libz3/libxml2 replaced by stubs
#   node.xz              this machine's node 20, stripped, xz -9e
# Usage: bash .gpucheck/build.sh [--no-node|--bundle-only]   (~3.5 min in all; --no-node keeps an existing node.xz)
set -euo pipefail
G="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$G/.." && pwd)"
ML=/usr/lib/x86_64-linux-gnu
STAGE="$(mktemp -d /tmp/gpucheck-stage.XXXXXX)"
trap 'rm -rf "$STAGE"' EXIT
P="$STAGE/payload"
mkdir -p "$P/bin" "$P/lib" "$P/dri" "$P/share" "$G/dist"

echo "== bundle"
(cd "$ROOT" && npx esbuild .gpucheck/src/runner.ts --bundle --keep-names --platform=node --format=esm --target=node20 \
  --outfile=.gpucheck/dist/runner.mjs \
  --alias:vitest=./.gpucheck/src/vitest-shim.ts --alias:bindings=./.gpucheck/src/bindings-shim.cjs \
  --banner:js="import { createRequire as __gpcCreateRequire } from 'node:module'; const require = __gpcCreateRequire(import.meta.url);" \
  --log-level=warning)
cp "$G/src/egl-probe.py" "$G/dist/egl-probe.py"
[ "${1:-}" = "--bundle-only" ] && { ls -la "$G/dist"; exit 0; }

echo "== payload files"
cp "$ROOT/node_modules/gl/build/Release/webgl.node" "$P/webgl.node"
strip --strip-unneeded "$P/webgl.node" 2>/dev/null || true
cp -L /usr/bin/Xvfb /usr/bin/xkbcomp "$P/bin/"
# glxinfo (Debian mesa-utils-bin) for a per-attempt GLX diagnostic
DEBS=/var/tmp/gpucheck-debs
if [ ! -e "$DEBS/x/usr/bin/glxinfo.x86_64-linux-gnu" ]; then
  mkdir -p "$DEBS" && (cd "$DEBS" && apt-get download mesa-utils-bin && dpkg -x mesa-utils-bin_*.deb x)
fi
cp "$DEBS/x/usr/bin/glxinfo.x86_64-linux-gnu" "$P/bin/glxinfo"
cp -L "$ML/dri/swrast_dri.so" "$P/dri/"
cp -rL /usr/share/X11/xkb "$P/share/xkb"
# glvnd (libGL is what ANGLE dlopens; libEGL/libGLESv2 only for the EGL diagnostic), Mesa's GLX vendor library
ROOTLIBS="libGL.so.1 libGLX.so.0 libGLdispatch.so.0 libEGL.so.1 libGLESv2.so.2 libOpenGL.so.0 libGLX_mesa.so.0 libglapi.so.0 libEGL_mesa.so.0 libgbm.so.1"
for l in $ROOTLIBS; do cp -L "$ML/$l" "$P/lib/$l"; done
SKIP='^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|ld-linux-x86-64\.so\.2|libresolv\.so\.2|libutil\.so\.1|libz3\.so\.4|libxml2\.so\.2|libicuuc\.so\.[0-9]+|libicudata\.so\.[0-9]+)$'
closure() { ldd "$@" 2>/dev/null | awk '$2=="=>" && $3 ~ /^\// {print $1, $3}'; }
closure "$P/webgl.node" "$P/bin/Xvfb" "$P/bin/xkbcomp" "$P/bin/glxinfo" "$P/dri/swrast_dri.so" $(for l in $ROOTLIBS; do echo "$ML/$l"; done) |
  sort -u | while read -r name path; do
    [[ "$name" =~ $SKIP ]] && continue
    [ -e "$P/lib/$name" ] || cp -L "$path" "$P/lib/$name"
  done
# libmvec etc. are glibc too; drop anything glibc ships
for f in "$P"/lib/*; do dpkg -S "$(basename "$f")" 2>/dev/null | grep -q '^libc6:' && rm -f "$f" || true; done
# Mesa's EGL vendor file (EGL diagnostic fallback only)
mkdir -p "$P/share/glvnd/egl_vendor.d" && cp /usr/share/glvnd/egl_vendor.d/50_mesa.json "$P/share/glvnd/egl_vendor.d/"

echo "== stubs for libz3.so.4 and libxml2.so.2 (libLLVM-15 links them; llvmpipe never calls them)"
stub() { # stub SONAME REALLIB -- the symbols libLLVM imports from REALLIB, functions abort(), data zeroed
  local soname=$1 real=$2 c="$STAGE/$1.c" map="$STAGE/$1.map"
  echo '#include <stdlib.h>' >"$c"
  : >"$STAGE/syms"
  nm -D --undefined-only "$ML/libLLVM-15.so.1" | awk '{print $2}' | sed 's/@.*//' | sort -u >"$STAGE/undef"
  objdump -T "$real" | awk '$2=="g" && ($4==".text" || $4==".data" || $4==".bss" || $4==".data.rel.ro") {print $3, $(NF-1), $NF}' |
    sort -u | while read -r kind ver sym; do
      grep -qx "$sym" "$STAGE/undef" || continue
      echo "$ver $sym" >>"$STAGE/syms"
      if [ "$kind" = DF ]; then echo "void $sym(void) { abort(); }" >>"$c"; else echo "void *$sym[8] = {0};" >>"$c"; fi
    done
  # xmlFree and friends are function-pointer variables: point them at free()
  sed -i 's/^void \*\(xmlFree\|xmlMalloc\|xmlRealloc\|xmlMemStrdup\)\[8\] = {0};/void *\1 = (void *)free;/' "$c"
  if grep -qv '^Base ' "$STAGE/syms"; then
    awk '{print $1}' "$STAGE/syms" | grep -v '^Base$' | sort -u | while read -r v; do
      echo "$v { global: $(awk -v v="$v" '$1==v {printf "%s; ", $2}' "$STAGE/syms") };"
    done >"$map"
    # Base-versioned symbols go in an unversioned local-catchall-free way: list them under the first node too
    gcc -shared -fPIC -O1 -o "$P/lib/$soname" -Wl,-soname,"$soname" -Wl,--version-script="$map" "$c"
  else
    gcc -shared -fPIC -O1 -o "$P/lib/$soname" -Wl,-soname,"$soname" "$c"
  fi
  echo "  $soname: $(wc -l <"$STAGE/syms") symbols"
}
stub libz3.so.4 "$ML/libz3.so.4"
stub libxml2.so.2 "$(readlink -f "$ML/libxml2.so.2")"

# Every library, Mesa driver and binary in the payload must resolve with the payload's lib/ first.
echo "== check: unresolved with payload libs"
bad=0
for f in "$P"/lib/* "$P"/dri/* "$P"/bin/* "$P/webgl.node"; do
  miss=$(LD_LIBRARY_PATH="$P/lib" ldd "$f" 2>&1 | grep -E 'not found' || true)
  [ -n "$miss" ] && { echo "  $f: $miss"; bad=1; }
done
LD_LIBRARY_PATH="$P/lib" ldd "$P/dri/swrast_dri.so" | grep -E 'LLVM|z3|xml' | sed 's/^/  swrast: /'
[ $bad = 0 ] || { echo "unresolved libraries"; exit 1; }
du -sh "$P"/* | sed 's/^/  /'

echo "== payload.tar.xz"
tar -C "$P" -cf - . | xz -9e -T0 >"$G/payload.tar.xz"
ls -la "$G/payload.tar.xz"

if [ "${1:-}" != "--no-node" ] || [ ! -e "$G/node.xz" ]; then
  echo "== node.xz ($(node --version))"
  cp /usr/bin/node "$STAGE/node" && strip "$STAGE/node"
  xz -9e -T0 -c "$STAGE/node" >"$G/node.xz"
fi
ls -la "$G/node.xz"
du -sh "$G" && du -sb "$G" | awk '{printf "  %.1f MiB\n", $1/1048576}'
