#!/usr/bin/env bash
# Instructions counted by valgrind: stable where wall-clock timings on a shared machine are not.
#   chain: per op of bench/engine.py's 1,000-op chain (forward only, and forward + backward);
#   mlp_small: per forward + backward step of bench/run.py's MLP 64×784→256→256→10 (float32 and float64),
#   gradscope beside the hand-written NumPy floor;
#   any other workload of bench/workloads.py (narrow, rnn, cnn, train_step, …): per step, float32 only.
# Needs valgrind.   bash bench/instructions.sh [chain|mlp_small|WORKLOAD]...
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(python -c "import sys; print(sys.executable)")
# one BLAS thread: OpenBLAS's idle threads spin, and valgrind would count their instructions too
export PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
count() {  # instructions of running workload $1 (implementation $2, dtype $3) $4 times after warming up: the runs
  # alone (run through itertools.starmap, the one call valgrind counts inside), not the imports and the warm-up,
  # which vary by ~2M instructions from one process to the next
  valgrind --tool=callgrind --callgrind-out-file=/dev/null --collect-atstart=no --toggle-collect=starmap_next \
    "$python" - "$@" <<'PY' 2>&1 | awk '/Collected/ {print $4}'
import collections, gc, itertools, sys
import numpy as np
sys.path.insert(0, "bench")
import gradscope
import workloads
from engine import PATTERN
gc.disable()
name, implementation, dtype, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if name.startswith("chain"):
    x0 = np.random.default_rng(0).standard_normal(16)
    def chain(n):
        x = gradscope.tensor(x0, requires_grad=True)
        y = x
        for i in range(n):
            kind = PATTERN[i % 4]
            y = y * 1.01 if kind == "mul" else y + 0.1 if kind == "add" else y.sin() if kind == "sin" else y.tanh()
        return y.sum()
    def step():
        loss = chain(1000)
        if name == "chain-both":
            loss.backward()
    chain(200).backward()
else:
    step = {w.name: w for w in workloads.WORKLOADS}[name].build(dtype, "full")[implementation]
step()
collections.deque(itertools.starmap(step, itertools.repeat((), repeats)), maxlen=0)
PY
}
per() {  # instructions per unit: the count of N runs / (N * units)
  echo $(( $(count "$1" "$2" "$3" "$4") / ($4 * $5) ))
}
for which in "${@:-chain mlp_small}"; do
  for item in $which; do
    case $item in
      chain)
        echo "chain fwd: $(per chain-fwd gradscope float64 5 1000) instructions per op"
        echo "chain fwd+bwd: $(per chain-both gradscope float64 5 1000) instructions per op" ;;
      *)
        if ! python -c "import sys; sys.path.insert(0, 'bench'); import workloads
sys.exit('$item' not in {w.name for w in workloads.WORKLOADS})"; then
          echo "unknown workload $item (chain, or one of bench/workloads.py's)" >&2; exit 2
        fi
        dtypes=float32; [ "$item" = mlp_small ] && dtypes="float32 float64"
        for dtype in $dtypes; do
          ours=$(per "$item" gradscope $dtype 5 1)
          floor=$(per "$item" numpy $dtype 5 1)
          echo "$item $dtype: gradscope $ours, numpy floor $floor instructions per step" \
               "($(python -c "print(f'{$ours / $floor:.3f}')")x)"
        done ;;
    esac
  done
done
