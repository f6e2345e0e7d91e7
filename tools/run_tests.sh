#!/usr/bin/env bash
# The README's test command: install what is needed (idempotent), then run
# the whole test suite on CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh --tests
exec python -m pytest tests "$@"
