#!/usr/bin/env bash
# The README's main command: install what is needed (idempotent), then run
# the whole DetNAS pipeline at CPU size on built-in data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh
exec python tools/pipeline.py "$@"
