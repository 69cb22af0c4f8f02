#!/usr/bin/env bash
# Installs the system packages Lifeboat needs to build and test.
# Idempotent: installs only what is missing and prints nothing when all is there.
set -euo pipefail

# Debian/Ubuntu package names. Build: cgo + OpenGL/X11 headers for Fyne.
# Test: Xvfb for GUI tests, D-Bus + gnome-keyring for the real Secret Service.
PKGS=(
  gcc pkg-config make git ca-certificates
  libgl1-mesa-dev xorg-dev libxkbcommon-dev
  xvfb xauth dbus dbus-x11 gnome-keyring x11-apps x11-utils
  systemd busybox-static
  python3 python3-icalendar python3-vobject
  rclone samba openssh-server openssh-client sshfs fuse3
  chromium
)
# chromium: headless, renders the Teams conversation export in its test;
# systemd: systemd-analyze checks the generated timer units; busybox-static:
# its crond/crontab (-c DIR) run a private cron in the schedule tests;
# x11-apps, x11-utils: xwd and xwininfo for `make screenshots`;
# python3-icalendar, python3-vobject: independent parsers the calendar and
# contacts export tests (engine/restore) read the .ics and .vcf files with;
# rclone: an independent OneDrive client the oracle tests run against the
# simulated tenant (engine/m365sim/oracle), and the SMB client below;
# installer/oracles.sh adds CLI for Microsoft 365 from npm, which needs
# Node.js and npm (added below if absent).
# samba, rclone, openssh-server, openssh-client, sshfs, fuse3: the backup on a
# real network share (engine/store/sharetest): Samba's smbd and OpenSSH's
# sshd serve a folder on loopback, started and stopped by the tests
# themselves, and rclone (SMB client) and sshfs mount it through FUSE, since
# the kernel here has no CIFS/NFS client. Installing samba and openssh-server
# starts nothing where systemd is not running; the tests use private
# configurations on free ports either way.
# `deps.sh dist` adds the packaging tools (make dist, make dist-test): the
# mingw-w64 cross-compiler and windres for Windows, NSIS for the setup
# program, osslsigncode and openssl for signing, dpkg-dev for the .deb, and
# Wine for dist-test to run the setup program and its uninstaller.
if [[ "${1:-}" == dist ]]; then
  PKGS+=(
    gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 nsis osslsigncode openssl
    dpkg-dev xz-utils file binutils wine64
  )
fi

case "$(uname -s)" in
Linux) ;;
Darwin)
  cat <<'MSG'
macOS: install the Xcode command line tools (xcode-select --install) and Go 1.26
(https://go.dev/dl/). Fyne needs nothing else on macOS.
MSG
  exit 0 ;;
MINGW* | MSYS* | CYGWIN*)
  cat <<'MSG'
Windows: install Go 1.26 and a gcc for cgo (MSYS2's mingw-w64-x86_64-gcc or TDM-GCC),
and put gcc on PATH. Fyne needs nothing else on Windows.
MSG
  exit 0 ;;
*)
  echo "deps.sh: unsupported system $(uname -s); install gcc and the OpenGL/X11 headers by hand" >&2
  exit 1 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps.sh: this is not a Debian/Ubuntu system; install the equivalents of: ${PKGS[*]}" >&2
  exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if ! command -v go >/dev/null 2>&1 && [[ ! -x /usr/local/go/bin/go ]]; then
  missing+=(golang-go)
fi

[[ ${#missing[@]} -eq 0 ]] && exit 0

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi

echo "Installing build and test dependencies: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
