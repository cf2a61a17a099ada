#!/usr/bin/env bash
# Instructions per op of bench/engine.py's chain (forward only, and forward + backward), counted by
# valgrind: stable where wall-clock timings on a shared machine are not. Needs valgrind.
#   bash bench/instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(python -c "import sys; print(sys.executable)")
# one BLAS thread: OpenBLAS's idle threads spin, and valgrind would count their instructions too
export PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
count() {  # instructions of running the chain $2 times in mode $1
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$python" - "$1" "$2" <<'PY' 2>&1 | awk '/Collected/ {print $4}'
import gc, sys
import numpy as np
sys.path.insert(0, "bench")
import gradscope
from engine import PATTERN
gc.disable()
x0 = np.random.default_rng(0).standard_normal(16)
def chain(n):
    x = gradscope.tensor(x0, requires_grad=True)
    y = x
    for i in range(n):
        kind = PATTERN[i % 4]
        y = y * 1.01 if kind == "mul" else y + 0.1 if kind == "add" else y.sin() if kind == "sin" else y.tanh()
    return y.sum()
mode, repeats = sys.argv[1], int(sys.argv[2])
chain(200).backward()
for _ in range(repeats):
    loss = chain(1000)
    if mode == "both":
        loss.backward()
PY
}
for mode in fwd both; do
  base=$(count "$mode" 0)
  total=$(count "$mode" 5)
  echo "$mode: $(( (total - base) / 5000 )) instructions per op"
done
