#!/usr/bin/env bash
# gpujs headless-gl check on a machine with no node, no X and no network, from the carried .gpucheck alone.
#   bash .gpucheck/run.sh          (as root; writes $OUT/gpucheck.log, $OUT/result.json, $OUT/xvfb.log)
# Steps: unpack node + payload into a private prefix; link only the libraries the system lacks (gap dir);
# start the carried Xvfb (its GLX backed by carried Mesa swrast); probe headless-gl with
#   1. nvidia        __GLX_VENDOR_LIBRARY_NAME=nvidia   (GLX client = NVIDIA driver, X server = Xvfb)
#   2. nvidia-prime  same + __NV_PRIME_RENDER_OFFLOAD=1
#   3. mesa          carried Mesa llvmpipe (software; proves the bundle, NOT a GPU run)
# then runs the parity suite + bench on the first attempt with a hardware renderer (else on mesa, labelled so).
# An X-less EGL-device check (python ctypes) runs as a diagnostic: headless-gl's ANGLE itself only has GLX on Linux.
# Env: OUT, GPUCHECK_PREFIX (/opt/gpucheck), GPUCHECK_BUDGET_S (225), GPUCHECK_FORCE_PRIVATE=1 (use every carried
# lib even where the system has one: for local simulation), GPUCHECK_ATTEMPTS ("nvidia nvidia-prime mesa").
set -u -o pipefail
G="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${OUT:-/tmp/gpucheck-out}"
mkdir -p "$OUT"
LOG="$OUT/gpucheck.log"
P="${GPUCHECK_PREFIX:-/opt/gpucheck}"
BUDGET="${GPUCHECK_BUDGET_S:-225}"
FORCE="${GPUCHECK_FORCE_PRIVATE:-0}"
ATTEMPTS="${GPUCHECK_ATTEMPTS:-nvidia nvidia-prime mesa}"
T_END=$((SECONDS + BUDGET))
XPID=""
INSTALLED=()

log() { printf '[gpucheck %3ss] %s\n' "$SECONDS" "$*"; }
left() { echo $((T_END - SECONDS)); }
# run_t SECONDS CMD... : a step with a timeout, its rc logged
run_t() {
  local t=$1 rc
  shift
  timeout -k 5 "$t" "$@"
  rc=$?
  [ $rc = 124 ] || [ $rc = 137 ] && log "TIMED OUT after ${t}s: $1"
  return $rc
}

cleanup() {
  [ -n "$XPID" ] && kill "$XPID" 2>/dev/null
  local f
  for f in "${INSTALLED[@]}"; do rm -f "$f"; done
  [ ${#INSTALLED[@]} -gt 0 ] && log "removed what was put in /: ${INSTALLED[*]}"
}

have_sys_lib() { # is library $1 on the system (ld cache or standard dirs), ignoring our prefix?
  local n=$1 d p
  for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /lib64 /usr/lib /lib; do
    [ -e "$d/$n" ] && return 0
  done
  while read -r p; do [ -e "$p" ] && return 0; done < <(awk -v n="$n" '$1==n {print $NF}' "$P/ldcache.txt")
  return 1
}

main() {
  trap cleanup EXIT
  log "start $(date -u +%FT%TZ) on $(hostname 2>/dev/null || cat /etc/hostname) ($(uname -srm)), budget ${BUDGET}s, bundle $G"
  log "os: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), $(ldd --version 2>/dev/null | head -1)"
  log "nvidia-smi: $(run_t 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -2 | tr '\n' ' ')"
  local NVLIB="" d
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && NVLIB="$NVLIB:$d"; done
  log "NVIDIA GL libs: $( (ls /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu 2>/dev/null | grep -E '^lib(GLX_nvidia|EGL_nvidia|nvidia-glcore|nvidia-glsi|nvidia-tls|nvidia-eglcore)\.so' | sort -u | tr '\n' ' ') || true)"
  log "glvnd vendor files: $(ls /usr/share/glvnd/egl_vendor.d /usr/local/nvidia/share/glvnd/egl_vendor.d 2>/dev/null | tr '\n' ' ')"
  log "system GL/X libs (ld cache, present): $( (ldconfig -p 2>/dev/null | awk '$1 ~ /^lib(GL|GLX|EGL|GLdispatch|OpenGL|X11|xcb|GLX_nvidia|EGL_nvidia|GLX_mesa)\.so\.[0-9]+$/ {print $1, $NF}' | while read -r n p; do [ -e "$p" ] && echo "$n"; done | sort -u | tr '\n' ' ') || true)"

  # ------------------------------------------------------------------ unpack
  if ! { rm -rf "$P" && mkdir -p "$P" && touch "$P/.w"; }; then
    log "cannot use $P; using /tmp/gpucheck"
    P=/tmp/gpucheck && rm -rf "$P" && mkdir -p "$P" || { log "cannot create $P"; return 10; }
  fi
  if command -v xz >/dev/null; then
    run_t 60 sh -c "xz -dc '$G/node.xz' > '$P/node'" && run_t 90 tar -xJf "$G/payload.tar.xz" -C "$P"
  else
    log "no xz: unpacking with python3 lzma"
    run_t 90 python3 -c "
import lzma, shutil, sys, tarfile
shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'))
t = tarfile.open(sys.argv[3], 'r:xz')
try:
    t.extractall(sys.argv[4], filter='fully_trusted')
except TypeError:
    t.extractall(sys.argv[4])" \
      "$G/node.xz" "$P/node" "$G/payload.tar.xz" "$P"
  fi || { log "unpack failed"; return 11; }
  chmod +x "$P/node"
  local NODE="$P/node"
  log "node: $("$NODE" --version 2>&1) ; payload: $(du -sh "$P" | cut -f1)"

  # --------------------------------------------- gap dir: only the libraries the system lacks
  ldconfig -p 2>/dev/null >"$P/ldcache.txt" || : >"$P/ldcache.txt"
  local GAP="$P/gap" MESA="$P/mesa" f n used=() skipped=()
  mkdir -p "$GAP" "$MESA"
  for f in "$P"/lib/*; do
    n=$(basename "$f")
    if [ "$FORCE" = 1 ] || ! have_sys_lib "$n"; then ln -sf "$f" "$GAP/$n"; used+=("$n"); else skipped+=("$n"); fi
  done
  # Mesa's GLX/glapi must match the carried swrast driver: forced first for the mesa attempt
  for n in libGLX_mesa.so.0 libglapi.so.0 libEGL_mesa.so.0 libgbm.so.1; do ln -sf "$P/lib/$n" "$MESA/$n"; done
  log "carried libs used (${#used[@]}): ${used[*]}"
  log "system libs kept (${#skipped[@]}): ${skipped[*]}"

  # ------------------------------------------------------------------ Xvfb
  # Xvfb runs xkbcomp from /usr/bin and loads swrast_dri.so from /usr/lib/x86_64-linux-gnu/dri (compiled-in paths):
  # put ours there only where the system has none, and take them away again at exit.
  local XLD="$GAP"
  if [ ! -x /usr/bin/xkbcomp ]; then
    printf '#!/bin/sh\nLD_LIBRARY_PATH="%s" exec "%s" "$@"\n' "$GAP" "$P/bin/xkbcomp" >/usr/bin/xkbcomp && chmod +x /usr/bin/xkbcomp && INSTALLED+=(/usr/bin/xkbcomp)
  fi
  local DRI=/usr/lib/x86_64-linux-gnu/dri/swrast_dri.so
  if [ ! -e "$DRI" ]; then
    mkdir -p "$(dirname "$DRI")" && ln -s "$P/dri/swrast_dri.so" "$DRI" && INSTALLED+=("$DRI") && XLD="$MESA:$GAP"
  fi
  [ ${#INSTALLED[@]} -gt 0 ] && log "put in / (absent before): ${INSTALLED[*]}"
  local D=99
  while [ -e "/tmp/.X$D-lock" ] || [ -e "/tmp/.X11-unix/X$D" ]; do D=$((D + 1)); done
  mkdir -p /tmp/.X11-unix && chmod 1777 /tmp/.X11-unix
  env -u __GLX_VENDOR_LIBRARY_NAME -u DISPLAY LD_LIBRARY_PATH="$XLD" \
    "$P/bin/Xvfb" ":$D" -screen 0 1280x1024x24 -nolisten tcp -noreset -fp built-ins -xkbdir "$P/share/xkb" +extension GLX \
    >"$OUT/xvfb.log" 2>&1 &
  XPID=$!
  local i
  for i in $(seq 1 60); do
    [ -S "/tmp/.X11-unix/X$D" ] && break
    kill -0 "$XPID" 2>/dev/null || break
    sleep 0.25
  done
  if ! kill -0 "$XPID" 2>/dev/null || [ ! -S "/tmp/.X11-unix/X$D" ]; then
    log "Xvfb did not come up; its log:"
    sed 's/^/    /' "$OUT/xvfb.log"
    return 12
  fi
  log "Xvfb :$D up (pid $XPID); GLX: $(grep -iE 'glx|swrast|dri' "$OUT/xvfb.log" | tr '\n' ' ' | cut -c1-300)"
  export DISPLAY=":$D" GPUCHECK_WEBGL_NODE="$P/webgl.node"

  # ------------------------------------------------------------------ probes
  local NVEGL=""
  [ -e /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ] && NVEGL="__EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json"
  attempt_env() {
    case $1 in
      nvidia) echo "__GLX_VENDOR_LIBRARY_NAME=nvidia $NVEGL LD_LIBRARY_PATH=$GAP$NVLIB" ;;
      nvidia-prime) echo "__GLX_VENDOR_LIBRARY_NAME=nvidia __NV_PRIME_RENDER_OFFLOAD=1 $NVEGL LD_LIBRARY_PATH=$GAP$NVLIB" ;;
      mesa) echo "__GLX_VENDOR_LIBRARY_NAME=mesa LIBGL_DRIVERS_PATH=$P/dri LD_LIBRARY_PATH=$MESA:$GAP" ;;
      *) return 1 ;;
    esac
  }
  local a envs out chosen="" chosen_real=0 fallback=""
  for a in $ATTEMPTS; do
    envs=$(attempt_env "$a") || { log "unknown attempt $a"; continue; }
    [ "$(left)" -lt 60 ] && { log "skip attempt $a: budget"; continue; }
    log "attempt $a: env $envs"
    # shellcheck disable=SC2086
    run_t 15 env $envs "$P/bin/glxinfo" -B 2>&1 | grep -iE 'direct rendering|vendor string|renderer string|^ *Device:|Accelerated|error|fail|couldn|unable|cannot|Bad[A-Z]' | head -10 | sed 's/^/    glxinfo: /'
    # shellcheck disable=SC2086
    out=$(run_t 40 env $envs "$NODE" "$G/dist/runner.mjs" probe 2>&1)
    echo "$out" | sed 's/^/    /' | cut -c1-1200
    if echo "$out" | grep -q '^GPUCHECK_PROBE .*"kernelOk":true'; then
      if echo "$out" | grep -q '"realGpu":true'; then
        chosen=$a chosen_real=1
        log "attempt $a: hardware renderer -> use it"
        break
      fi
      fallback=$a
      log "attempt $a: works, but SOFTWARE renderer"
    else
      log "attempt $a: FAILED"
    fi
  done
  [ -z "$chosen" ] && chosen=$fallback

  # X-less EGL diagnostic (NVIDIA EGL device platform through glvnd), informative only
  if command -v python3 >/dev/null && [ "$(left)" -gt 90 ]; then
    local ev="/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json" eld="$GAP$NVLIB"
    [ -e "$ev" ] || { ev="$P/share/glvnd/egl_vendor.d/50_mesa.json" && eld="$MESA:$GAP"; }
    log "EGL diagnostic (__EGL_VENDOR_LIBRARY_FILENAMES=$ev, no X):"
    run_t 20 env -u DISPLAY __EGL_VENDOR_LIBRARY_FILENAMES="$ev" LD_LIBRARY_PATH="$eld" python3 "$G/dist/egl-probe.py" 2>&1 | sed 's/^/    /' | cut -c1-1500
  fi

  if [ -z "$chosen" ]; then
    log "RESULT: no attempt could create a headless-gl context; nothing more to run"
    return 20
  fi

  # ------------------------------------------------------------------ full run
  local t=$(($(left) - 5)) rc
  [ $t -gt 200 ] && t=200
  envs=$(attempt_env "$chosen")
  log "full run on '$chosen' ($([ $chosen_real = 1 ] && echo HARDWARE || echo 'SOFTWARE - NOT a GPU run')), timeout ${t}s, env $envs"
  # shellcheck disable=SC2086
  run_t "$t" env $envs GPUCHECK_RESULT="$OUT/result.json" GANPO_REQUIRE_HEADLESSGL=1 "$NODE" "$G/dist/runner.mjs" full
  rc=$?
  log "full run rc=$rc; attempt '$chosen'; $([ $chosen_real = 1 ] && echo 'GPU RUN (hardware renderer)' || echo 'NOT A GPU RUN (software renderer)')"
  return $rc
}

main "$@" 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
echo "[gpucheck] exit $rc; log at $LOG" | tee -a "$LOG"
exit "$rc"
