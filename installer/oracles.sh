#!/usr/bin/env bash
# Installs the independent Microsoft 365 clients that the oracle tests
# (engine/m365sim/oracle) run against the simulated tenant: CLI for
# Microsoft 365 from npm, exactly as pinned by installer/oracles/package-lock.json,
# with the machine's Node.js. (rclone, the other oracle, is a Debian package
# in deps.sh.) It installs into a cache folder outside the repository, one
# folder per lock file, so worktrees and CI runs on the same machine share it.
# Idempotent: prints nothing when the pinned version is already there.
#
#   LIFEBOAT_ORACLES_DIR  where to install (default ~/.cache/lifeboat/oracles)
#   oracles.sh --print    prints the folder the tests look in, installs nothing
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
base=${LIFEBOAT_ORACLES_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lifeboat/oracles}
stamp=$(sha256sum "$here/oracles/package-lock.json" | cut -c1-16)
dest="$base/$stamp"

if [[ "${1:-}" == --print ]]; then
  echo "$dest"
  exit 0
fi
[[ -x "$dest/node_modules/.bin/m365" ]] && exit 0

if ! command -v npm >/dev/null 2>&1; then
  echo "oracles.sh: npm is missing; run installer/deps.sh first (Debian packages nodejs npm)" >&2
  exit 1
fi

echo "Installing the oracle clients (CLI for Microsoft 365) into $dest"
mkdir -p "$base"
tmp=$(mktemp -d "$base/.install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$here/oracles/package.json" "$here/oracles/package-lock.json" "$tmp/"
# --ignore-scripts: nothing the CLI needs runs at install time (the one
# install script in its tree, protobufjs's, only prints a notice).
(cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
