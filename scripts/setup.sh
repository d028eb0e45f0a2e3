#!/usr/bin/env bash
# Create (or update) .venv at the repository root with scn and its test tools.
#
# torch is installed first, pinned to 2.13.0: stable-baselines3 needs torch, and pip would
# otherwise pull a multi-GB CUDA build. On these machines a CPU build of torch 2.13.0 for
# Python 3.11 lies on disk, and pip takes it from there. Safe to run again: it only installs
# what changed. Use PYTHON=/path/to/python3.11 to pick the interpreter.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup: scn needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check)
if ! .venv/bin/python -c 'import torch, sys; sys.exit(not torch.__version__.startswith("2.13.0"))' 2>/dev/null; then
    echo "setup: installing torch 2.13.0"
    "${PIP[@]}" install --quiet torch==2.13.0
fi
echo "setup: installing scn (editable) with its test tools, Ray and RLlib's packages and the language server (the ray, rllib and lsp extras)"
"${PIP[@]}" install --quiet -e '.[test,ray,rllib,lsp]'
echo "setup: done; $(.venv/bin/scn --version)"
