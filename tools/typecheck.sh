#!/usr/bin/env bash
# Static checks of the Python API: `mypy --strict` over python/gfo_native (config: [tool.mypy] in
# pyproject.toml) and mypy.stubtest of the compiled module against python/gfo_native/_core.pyi.
#
#   tools/typecheck.sh            # in-place dev build (tools/dev-build.sh) if present, else the installed package
#
# Exits non-zero on any error. Installs mypy with pip if it is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
unset MYPYPATH

if ! python -c "import mypy" 2>/dev/null; then
    python -m pip install -q mypy
fi

echo "== mypy --strict (python/gfo_native)"
python -m mypy --config-file pyproject.toml

echo "== stubtest gfo_native._core"
allow=(--allowlist "$root/tools/stubtest-allowlist.txt" --ignore-unused-allowlist)
if compgen -G "python/gfo_native/_core*.so" >/dev/null || compgen -G "python/gfo_native/_core*.pyd" >/dev/null; then
    # in-place build: the stub and the binary side by side in python/gfo_native
    PYTHONPATH="$root/python" python -m mypy.stubtest "${allow[@]}" gfo_native._core
else
    # installed package (CI): run outside the checkout so that the installed copy (binary + stub) is the one found
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && python -m mypy.stubtest "${allow[@]}" gfo_native._core)
fi
