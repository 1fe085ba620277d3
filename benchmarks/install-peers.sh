#!/usr/bin/env bash
# Installs the peer libraries that benchmarks compare against, into the current Python
# environment: learn2learn 0.2.0 (MAML), easyfsl 1.5.0 (Prototypical Networks).
# learn2learn's sdist ships C files generated for old Pythons (they fail on 3.11 with
# "longintrepr.h: No such file"), so its .pyx files are cythonized afresh first.
# Usage: bash benchmarks/install-peers.sh [python]   (default: python3 on PATH)
set -euo pipefail
py=${1:-python3}
# an absolute path: the build below runs in another directory (a venv's python stays itself)
case $py in */*) py="$(cd "$(dirname "$py")" && pwd)/$(basename "$py")" ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" -m pip install -q cython gym easyfsl==1.5.0 --no-deps
"$py" -m pip install -q tqdm requests scipy cloudpickle gym-notices
# without build isolation: the sdist's metadata is prepared with the cython installed above
# (in isolation pip would build cython itself from source, minutes on a small machine)
"$py" -m pip download -q --no-deps --no-build-isolation --no-binary :all: learn2learn==0.2.0 -d "$work"
tar xzf "$work"/learn2learn-0.2.0.tar.gz -C "$work"
cd "$work/learn2learn-0.2.0"
rm -f learn2learn/data/*.c
"$py" -c "from Cython.Build import cythonize; cythonize(['learn2learn/data/meta_dataset.pyx','learn2learn/data/task_dataset.pyx','learn2learn/data/transforms.pyx'], compiler_directives={'language_level': 3}, quiet=True)"
"$py" -m pip install -q --no-deps --no-build-isolation .
cd /
"$py" -c "import learn2learn, easyfsl; print('peers ok: learn2learn', learn2learn.__version__, '| easyfsl')"
