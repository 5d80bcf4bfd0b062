#!/usr/bin/env bash
# Renders a run's report.html in headless Chromium and writes a PNG screenshot, so a person (or CI) can look
# at the plots without opening a browser.
#
#   packages/cli/scripts/screenshot-report.sh RUN_DIR [OUT.png] [WIDTHxHEIGHT]
#
# Needs Debian's `chromium` (apt-get install -y chromium); CHROMIUM=/path/to/chrome picks another binary.
# Exit codes: 0 screenshot written; 2 usage error or no report.html; 3 no chromium; 1 chromium failed.
set -euo pipefail

if [[ $# -lt 1 || "$1" == "-h" || "$1" == "--help" ]]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  [[ $# -lt 1 ]] && exit 2 || exit 0
fi

run_dir=$1
report="$run_dir/report.html"
out=${2:-$run_dir/report.png}
size=${3:-1400x2600}
if [[ ! -f "$report" ]]; then
  echo "screenshot-report: $report does not exist (train first: ganpo train --out $run_dir)" >&2
  exit 2
fi

chromium_bin=${CHROMIUM:-}
if [[ -z "$chromium_bin" ]]; then
  for candidate in chromium chromium-browser google-chrome; do
    if command -v "$candidate" >/dev/null 2>&1; then chromium_bin=$(command -v "$candidate"); break; fi
  done
fi
if [[ -z "$chromium_bin" ]]; then
  echo "screenshot-report: no chromium found (Debian: apt-get install -y chromium; or set CHROMIUM=...)" >&2
  exit 3
fi

abs_report=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
mkdir -p "$(dirname "$out")"
abs_out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

# --no-sandbox: root in containers and CI; --disable-gpu: no GPU needed for SVG; a throwaway profile
# keeps runs independent. The report has no scripts and no network requests, so a screenshot after load
# shows everything.
if ! "$chromium_bin" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
  --user-data-dir="$profile" --window-size="${size/x/,}" --screenshot="$abs_out" "file://$abs_report" \
  >"$profile/chromium.log" 2>&1; then
  echo "screenshot-report: chromium failed:" >&2
  tail -20 "$profile/chromium.log" >&2
  exit 1
fi
if [[ ! -s "$abs_out" ]]; then
  echo "screenshot-report: chromium wrote no screenshot:" >&2
  tail -20 "$profile/chromium.log" >&2
  exit 1
fi
echo "wrote $out"
