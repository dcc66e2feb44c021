#!/bin/sh
# Everything: torchvision models, ONNX exports, ONNX Grad-CAM. Usage: run_all.sh DATA
# Needs Debian's python3-torch, python3-torchvision, python3-onnx (/usr/bin/python3). ~20 min on 2 cores.
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"; DATA=$(cd "$1" && pwd)
REPO=${TINYCAM_REPO:-$(cd "$HERE/../.." && pwd)}
export TINYCAM_REPO="$REPO"
"$HERE/run_models.sh" "$DATA" | tee "$DATA/models.log"
/usr/bin/python3 "$HERE/gen_onnx.py" "$DATA" > "$DATA/gen_onnx.log" 2>&1
/usr/bin/python3 "$HERE/gen_onnx_cam.py" "$DATA" >> "$DATA/gen_onnx.log" 2>&1
cd "$REPO"
npx tsx "$HERE/compare_onnx.ts" "$DATA" | tee "$DATA/onnx.log" | grep -v '^ok\|^     \(out\|d/dx\)'
npx tsx "$HERE/compare_onnx_cam.ts" "$DATA" | tee "$DATA/onnx_cam.log"
