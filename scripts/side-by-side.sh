#!/usr/bin/env bash
# Times the reference CNN and SAC updates side by side with PyTorch CPU: ours, then theirs,
# alternating, ROUNDS times (default 3), one JSON line each (prefixed by its name) on stdout.
# Needs a release build and a Python with torch (PYTHON, default python3):
#   python3 -m venv /tmp/peers && /tmp/peers/bin/pip install torch==2.13.0 numpy
#   swift build -c release && PYTHON=/tmp/peers/bin/python scripts/side-by-side.sh
# Run it with nothing else on the machine: PyTorch's threads suffer from any other load.
set -euo pipefail
cd "$(dirname "$0")/.."
ours=.build/release/gmps-vision
python=${PYTHON:-python3}
rounds=${1:-3}
[[ -x $ours ]] || { echo "side-by-side: build first: swift build -c release" >&2; exit 1; }
"$python" -c "import torch" 2>/dev/null || { echo "side-by-side: $python has no torch; set PYTHON (see the header)" >&2; exit 1; }
for round in $(seq "$rounds"); do
    echo "round $round load $(cut -d' ' -f1 /proc/loadavg)"
    echo "ours_cnn $($ours bench convnet --json --threads 2)"
    echo "torch_cnn $("$python" scripts/peers/torch_cnn.py)"
    echo "ours_sac_256_256_2 $($ours bench sac --json --hidden 256 --batch 256 --threads 2)"
    echo "torch_sac_256_256_2 $("$python" scripts/peers/torch_sac.py 2 9 3 256 256)"
    echo "ours_sac_64_128_1 $($ours bench sac --json --hidden 64 --batch 128 --threads 1)"
    echo "torch_sac_64_128_1 $("$python" scripts/peers/torch_sac.py 1 9 3 64 128)"
done
