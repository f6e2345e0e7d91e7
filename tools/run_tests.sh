#!/usr/bin/env bash
# The README's test command: install what is needed (idempotent), then run
# the whole test suite on CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh --tests
# One intra-op thread per process: the suite runs 2-process distributed
# tests on 2 cores, and oversubscribed threads slow torch down ~10x.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
exec python -m pytest tests "$@"
