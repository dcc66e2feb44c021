#!/bin/sh
# Generate, compare and delete the weights of each torchvision config in turn.
# Usage: run_models.sh DATA [filter]   (run from anywhere; needs /usr/bin/python3 with torch)
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$(cd "$1" && pwd); FILTER=${2:-}
REPO=${TINYCAM_REPO:-$(cd "$HERE/../.." && pwd)}
for id in $(/usr/bin/python3 -c "import sys; sys.path.insert(0,'$HERE'); import gen_models as g; print(' '.join(c[0] for c in g.CONFIGS if '$FILTER' in c[0]))"); do
  /usr/bin/python3 "$HERE/gen_models.py" "$DATA" "$id" >/dev/null || { echo "== $id: generator failed"; continue; }
  (cd "$REPO" && npx tsx "$HERE/compare_models.ts" "$DATA" "$id")
  rm -f "$DATA/models/$id.weights.safetensors"
done
