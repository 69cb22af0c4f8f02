#!/usr/bin/env bash
# Runs a command the way the tests need the desktop: inside a private D-Bus
# session with an unlocked gnome-keyring (the real Secret Service that
# go-keyring talks to) and, when no display is set, a virtual X screen.
set -euo pipefail

if [[ -z "${LIFEBOAT_TEST_SESSION:-}" ]]; then
  export LIFEBOAT_TEST_SESSION=1
  exec dbus-run-session -- bash "$0" "$@"
fi

# A throwaway keyring home so tests never touch a developer's real keyring.
export XDG_DATA_HOME
XDG_DATA_HOME=$(mktemp -d)
trap 'rm -rf "$XDG_DATA_HOME"' EXIT
# --unlock reads the new login keyring's password from stdin and creates it.
eval "$(printf 'lifeboat-test\n' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL

if [[ -z "${DISPLAY:-}" ]] && command -v Xvfb >/dev/null 2>&1; then
  disp=":$((100 + RANDOM % 800))"
  Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb_pid=$!
  trap 'kill $xvfb_pid 2>/dev/null; rm -rf "$XDG_DATA_HOME"' EXIT
  export DISPLAY=$disp
fi

"$@"
