#!/usr/bin/env bash
# Installs detnas_mm and its dependency stack into the current Python
# environment. Idempotent: every step is skipped when already satisfied, so
# a second run neither reinstalls torch nor rebuilds mmcv.
#
# The pins follow docs/install.md (why each one is needed is written there).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
export PIP_ROOT_USER_ACTION=ignore
pip_install() { "$PY" -m pip install --disable-pip-version-check -q "$@"; }
have() { "$PY" - "$@" <<'PYEOF' 2>/dev/null
import sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name, want = spec.split('==')
    if version(name) != want:
        sys.exit(1)
PYEOF
}

# 1. torch from the registry: '===' matches the exact version string so a
#    local CPU-only wheel (with which torchvision cannot load) is not taken.
if ! have torch==2.13.0 torchvision==0.28.0 \
    && ! have torch==2.13.0+cu130 torchvision==0.28.0+cu130; then
  echo '[install] torch 2.13.0 + torchvision 0.28.0'
  pip_install 'torch===2.13.0' 'torchvision==0.28.0'
fi

# 2. mmcv 2.1.0 with ops, built from source (no prebuilt wheel reachable);
#    its setup.py needs torch at build time and pkg_resources.
if ! "$PY" -c 'import mmcv, mmcv.ops; assert mmcv.__version__ == "2.1.0"' \
    2>/dev/null; then
  echo '[install] mmcv 2.1.0 with ops (first time: ~11 min on 2 cores)'
  pip_install 'setuptools>=77.0.3,<81' wheel ninja
  MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2} \
    pip_install --no-build-isolation mmcv==2.1.0
fi

# 3. The rest of the stack.
if ! have mmengine==0.10.7 mmdet==3.3.0 mmpretrain==1.2.0 openmim==0.3.9; then
  echo '[install] mmengine, mmdet, mmpretrain, openmim'
  pip_install -r requirements/runtime.txt
  # openmim's optional openxlab dependency pins an old setuptools; mim's
  # train/test commands need only these.
  pip_install --no-deps openmim==0.3.9
  pip_install -r requirements/mim.txt
fi

# 4. This checkout, editable. Reinstall when detnas_mm resolves to another
#    checkout (another clone on the same machine), so that tools run as
#    subprocesses import this code.
here=$(pwd -P)/detnas_mm
where() { (cd / && "$PY" -c 'import os, detnas_mm
print(os.path.dirname(os.path.realpath(detnas_mm.__file__)))' 2>/dev/null)
}
if [ "$(where)" != "$here" ]; then
  echo "[install] detnas_mm (editable, from $here)"
  pip_install --no-build-isolation --no-deps -e .
fi
# mim (and mmengine's 'detnas_mm::' config prefix) look for the package at
# <distribution location>/detnas_mm, which a PEP 660 editable install does
# not create (setuptools >= 64 no longer runs 'develop'): link it to this
# checkout so that 'mim train detnas_mm <config>' finds detnas_mm/.mim.
link=$(cd / && "$PY" -c 'import os, importlib.metadata as m
print(os.path.join(str(m.distribution("detnas_mm").locate_file("")),
                   "detnas_mm"))')
if [ "$(readlink -f "$link" 2>/dev/null)" != "$here" ]; then
  if [ -L "$link" ] || [ ! -e "$link" ]; then
    ln -sfn "$here" "$link"
  else
    echo "[install] $link exists and is not a link: not touching it" >&2
  fi
fi
# 5. ONNX export and ONNX Runtime latency tables (both README commands).
if ! "$PY" -c 'import onnx, onnxruntime' 2>/dev/null; then
  echo '[install] onnx, onnxruntime'
  pip_install -r requirements/optional.txt
fi
if [ "${1:-}" = '--tests' ] && ! "$PY" -c 'import pytest, pytest_timeout' 2>/dev/null
then
  pip_install -r requirements/tests.txt
fi
