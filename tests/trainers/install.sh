#!/usr/bin/env bash
# The environment of the opt-in trainer tests: python -m pytest -m trainers (tests/test_trainers.py).
# Usage: tests/trainers/install.sh [VENV]   (default .venv-trainers; ~2 GB, ~2 minutes)
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${1:-.venv-trainers}"
python3 -m venv "$venv"
pip="$venv/bin/pip"
"$pip" install -q torch==2.13.0            # the CPU build; first, so nothing pulls a CUDA build
"$pip" install -q --no-deps llamafactory==0.9.5   # its torchvision requirement would pull CUDA torch
"$pip" install -q -r tests/trainers/requirements.txt
"$pip" install -q -e '.[test]'
# torchaudio from PyPI is a CUDA build whose libraries fail to load on a CPU torch; LLaMA-Factory
# imports it at the top of data/mm_plugin.py and text training never calls it. Without its native
# libraries it imports as pure Python.
rm -f "$venv"/lib/python3*/site-packages/torchaudio/lib/*.so
echo "now: HF_HUB_OFFLINE=1 $venv/bin/python -m pytest -m trainers -n 0 -s"
