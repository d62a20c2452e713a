#!/usr/bin/env bash
# The demo of the README, on a copy of Fixtures/sample-project in a temporary folder:
# init, track, commit, change the data, commit, status, log, check the first version out
# again, and show that its bytes are identical to the original.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
mlv=$(cd "$(dirname "${1:-.build/release/mlv}")" && pwd)/$(basename "${1:-mlv}")
work=$(mktemp -d "${TMPDIR:-/tmp}/mlv-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$here/Fixtures/sample-project/." "$work/"
cd "$work"
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-mlv demo} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-demo@example.com}
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
git init -q -b main
step "$mlv" init
step "$mlv" track data/penguins.csv data/iris.csv data/wine.csv features/penguins.features.yaml
step "$mlv" track params.yaml
git add train.py
step "$mlv" commit -m "Penguins v1"
original=$(sha256sum data/penguins.csv | cut -d' ' -f1)

# New rows arrive: append the first ten data rows again with a new island name.
sed -n '2,11p' data/penguins.csv | sed 's/Torgersen/Biscoe/' >> data/penguins.csv
step "$mlv" status
step "$mlv" commit -m "Penguins v2: ten more rows"
step "$mlv" log data/penguins.csv
step "$mlv" checkout HEAD~1
restored=$(sha256sum data/penguins.csv | cut -d' ' -f1)
step "$mlv" status
step "$mlv" checkout main
echo
echo "v1 before: $original"
echo "v1 after : $restored"
if [ "$original" = "$restored" ]; then echo "identical: checkout brought back the first version byte for byte"; else echo "MISMATCH" >&2; exit 1; fi
