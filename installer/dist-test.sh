#!/usr/bin/env bash
# dist-test.sh: builds every package as a release would (installer/dist.sh,
# strict: a package that cannot be built fails the test) into
# bin/dist-test/dist, signing the Windows programs with a throwaway
# self-signed certificate, then checks what a person would get:
#   - SHA256SUMS matches the files;
#   - the Linux tarball holds the program, desktop entry and icon;
#   - the .deb installs (dpkg -i as root, which CI is; else unpacked into a
#     throwaway root), declares its runtime libraries, and the installed
#     `lifeboat --version` prints FyneApp.toml's version; the installed
#     program signs in to the simulated tenant, creates a backup and backs
#     up (under installer/test-session.sh: the real Secret Service), and
#     the backup verifies;
#   - the Windows program and setup are x86-64 PE GUI programs carrying the
#     icon, manifest and version resource with FyneApp.toml's version, the
#     setup asks for no administrator rights, and both signatures verify
#     (and stop verifying when a byte changes);
#   - the setup, run silently under Wine, installs for the user only with a
#     Start-menu shortcut, uninstall and --tray login entries in HKCU, and
#     its uninstaller removes exactly those and leaves settings and backups.
# `make dist-test` runs it; CI runs that after `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"

fail() { echo "dist-test: FAIL: $*" >&2; exit 1; }
ok() { echo "dist-test: ok: $*"; passed=$((passed + 1)); }
passed=0

meta() { sed -n "s/^$1 *= *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" FyneApp.toml | head -1; }

# backup BIN DIR: the headless walk-through from the README with the
# installed program. Runs inside installer/test-session.sh.
if [[ "${1:-}" == backup ]]; then
  bin=$2 dir=$3
  export LIFEBOAT_CONFIG_DIR=$dir/config
  "$bin" sim serve --demo --auto-approve 1s --profile-out "$dir/tenant.json" >"$dir/sim.log" 2>&1 &
  sim=$!
  trap 'kill $sim 2>/dev/null || true; wait $sim 2>/dev/null || true' EXIT
  for _ in $(seq 100); do [[ -s "$dir/tenant.json" ]] && break; sleep 0.1; done
  [[ -s "$dir/tenant.json" ]] || { cat "$dir/sim.log" >&2; fail "the simulated tenant did not start"; }
  export LIFEBOAT_TENANT_PROFILE=$dir/tenant.json
  "$bin" login </dev/null >"$dir/login.log" 2>&1 || { cat "$dir/login.log" >&2; fail "lifeboat login"; }
  "$bin" init --to "$dir/backup" </dev/null >"$dir/init.log" 2>&1 || { cat "$dir/init.log" >&2; fail "lifeboat init"; }
  "$bin" backup --to "$dir/backup" --json </dev/null >"$dir/backup.json" 2>"$dir/backup.log" ||
    { cat "$dir/backup.log" >&2; fail "lifeboat backup exited $?"; }
  "$bin" snapshots --to "$dir/backup" >"$dir/snapshots.txt" 2>&1 || { cat "$dir/snapshots.txt" >&2; fail "lifeboat snapshots"; }
  for kind in mail onedrive; do
    grep -qE "^[0-9a-f]{8} .* $kind " "$dir/snapshots.txt" || { cat "$dir/snapshots.txt" >&2; fail "the backup lists no $kind snapshot"; }
  done
  "$bin" verify --to "$dir/backup" --read-data >"$dir/verify.log" 2>&1 || { cat "$dir/verify.log" >&2; fail "lifeboat verify --read-data"; }
  exit 0
fi

NAME=$(meta Name) VERSION=$(meta Version) BUILD=$(meta Build)
T=$ROOT/bin/dist-test
rm -rf "$T" && mkdir -p "$T"
start=$(date +%s)

# A throwaway code-signing certificate: proves the signing step works.
openssl req -x509 -newkey rsa:3072 -sha256 -nodes -days 2 \
  -subj "/CN=Lifeboat CI throwaway code signing" \
  -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=codeSigning" \
  -keyout "$T/sign-key.pem" -out "$T/sign-cert.pem" 2>/dev/null
chmod 600 "$T/sign-key.pem"

LIFEBOAT_DIST_STRICT=1 DIST=$T/dist LIFEBOAT_SIGN_CERT=$T/sign-cert.pem LIFEBOAT_SIGN_KEY=$T/sign-key.pem \
  LIFEBOAT_SIGN_LOG=$T/signed.txt bash installer/dist.sh all
built=$(date +%s)
D=$T/dist
tarball=$D/lifeboat-$VERSION-linux-amd64.tar.xz
deb=$D/lifeboat_${VERSION}-${BUILD}_amd64.deb
exe=$D/lifeboat-$VERSION-windows-amd64.exe
setup=$D/$NAME-$VERSION-setup.exe
for f in "$tarball" "$deb" "$exe" "$setup" "$D/SHA256SUMS"; do [[ -s "$f" ]] || fail "dist.sh did not write $f"; done

(cd "$D" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match"
[[ $(wc -l <"$D/SHA256SUMS") -eq 4 ]] || fail "SHA256SUMS should list 4 packages: $(cat "$D/SHA256SUMS")"
ok "SHA256SUMS lists and matches the 4 packages"

# --- Linux tarball (fyne package) ---
tar -tJf "$tarball" >"$T/tar.txt"
for want in usr/local/bin/lifeboat usr/local/share/applications/io.lifeboat.app.desktop \
  usr/local/share/pixmaps/io.lifeboat.app.png Makefile; do
  grep -q "/$want\$" "$T/tar.txt" || fail "$tarball has no $want: $(cat "$T/tar.txt")"
done
ok "the tarball holds the program, desktop entry, icon and Makefile"

# --- .deb ---
dpkg-deb -f "$deb" Package Version Architecture Depends >"$T/control.txt"
grep -qx "Version: $VERSION-$BUILD" "$T/control.txt" || fail "deb version: $(cat "$T/control.txt")"
for lib in libc6 libgl1 libx11-6 libxcursor1 libxi6 libxinerama1 libxrandr2 libxrender1 libxxf86vm1; do
  grep -q "^Depends:.*\b$lib\b" "$T/control.txt" || fail "deb Depends lacks $lib: $(cat "$T/control.txt")"
done
dpkg-deb -c "$deb" >"$T/deb.txt"
for want in ./usr/bin/lifeboat ./usr/share/applications/io.lifeboat.app.desktop \
  ./usr/share/icons/hicolor/48x48/apps/io.lifeboat.app.png \
  ./usr/share/icons/hicolor/scalable/apps/io.lifeboat.app.svg; do
  grep -q " $want\$" "$T/deb.txt" || fail "the .deb has no $want"
done
grep -q '^-rwxr-xr-x root/root .* ./usr/bin/lifeboat$' "$T/deb.txt" || fail "usr/bin/lifeboat is not root-owned 0755: $(grep bin/lifeboat "$T/deb.txt")"
ok "the .deb declares its runtime libraries and holds the program, desktop entry and icons"

# Install it. CI runs as root: a real dpkg -i, which also checks that every
# declared dependency is installed here, then removal. A developer without
# root gets the package unpacked into a throwaway root instead.
installed_by_test=0
if [[ $(id -u) -eq 0 ]] && ! dpkg-query -W -f='${Status}' lifeboat 2>/dev/null | grep -q 'ok installed'; then
  dpkg -i "$deb" >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log" >&2; fail "dpkg -i"; }
  installed_by_test=1
  trap '[[ $installed_by_test == 1 ]] && dpkg -r lifeboat >/dev/null 2>&1 || true' EXIT
  lifeboat=/usr/bin/lifeboat
  how="dpkg -i"
else
  dpkg-deb -x "$deb" "$T/root"
  lifeboat=$T/root/usr/bin/lifeboat
  how="unpacked into $T/root (not root, or lifeboat already installed)"
fi
ldd "$lifeboat" >"$T/ldd.txt"
! grep -q 'not found' "$T/ldd.txt" || fail "the installed program misses libraries: $(grep 'not found' "$T/ldd.txt")"
got=$("$lifeboat" --version 2>"$T/version.err")
[[ "$got" == "lifeboat $VERSION" ]] || fail "installed lifeboat --version printed \"$got\", want \"lifeboat $VERSION\""
ok "installed ($how); lifeboat --version prints \"$got\""

mkdir -p "$T/run"
bash installer/test-session.sh bash installer/dist-test.sh backup "$lifeboat" "$T/run"
# The run's result event names the snapshots it committed and no error.
grep '"event":"result"' "$T/run/backup.json" >"$T/run/result.json" || fail "backup --json printed no result: $(tail -c 500 "$T/run/backup.json")"
grep -q '"snapshots":{"' "$T/run/result.json" || fail "the backup committed no snapshot: $(cat "$T/run/result.json")"
! grep -q '"error":' "$T/run/result.json" || fail "the backup reported an error: $(cat "$T/run/result.json")"
ok "the installed program signed in to the simulated tenant, backed it up and verified every byte"

if [[ $installed_by_test == 1 ]]; then
  dpkg -r lifeboat >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log" >&2; fail "dpkg -r"; }
  installed_by_test=0
  [[ ! -e /usr/bin/lifeboat ]] || fail "dpkg -r left /usr/bin/lifeboat"
  ok "dpkg -r removes it again"
fi

# --- Windows ---
file -b "$exe" | grep -q '^PE32+ executable (GUI) x86-64' || fail "$exe: $(file -b "$exe")"
file -b "$setup" | grep -q '^PE32+ executable (GUI) x86-64' || fail "$setup: $(file -b "$setup")"
# The top level of the resource directory lists resource types by number:
# 3 icon, 14 icon group, 16 version, 24 manifest.
x86_64-w64-mingw32-objdump -p "$exe" | sed -n '/The .rsrc Resource Directory section/,$p' |
  grep -E '^[0-9a-f]+   Entry: ID: ' | sed -E 's/.*ID: 0x0*([0-9a-f]+),.*/\1/' >"$T/exe-rsrc-types.txt"
for type in 3 14 16 24; do
  grep -qx "$(printf %x $type)" "$T/exe-rsrc-types.txt" || fail "lifeboat.exe has no resource of type $type: $(tr '\n' ' ' <"$T/exe-rsrc-types.txt")"
done
# Version strings are UTF-16LE in the version resource.
strings -el "$exe" >"$T/exe-strings.txt"
grep -qx "$VERSION" "$T/exe-strings.txt" || fail "lifeboat.exe carries no version string $VERSION"
grep -qx "ProductVersion" "$T/exe-strings.txt" || fail "lifeboat.exe has no ProductVersion"
grep -q 'level="asInvoker"' "$exe" || fail "lifeboat.exe's manifest does not run as the invoking user"
strings -el "$setup" >"$T/setup-strings.txt"
grep -qx "$VERSION" "$T/setup-strings.txt" || fail "the setup program carries no version string $VERSION"
grep -q 'level="asInvoker"' "$setup" || fail "the setup program asks for administrator rights"
ok "lifeboat.exe and the setup are PE GUI programs with version $VERSION; neither needs administrator rights"

for f in "$exe" "$setup"; do
  osslsigncode verify -CAfile "$T/sign-cert.pem" -in "$f" >"$T/verify.txt" 2>&1 ||
    { cat "$T/verify.txt" >&2; fail "the signature of $(basename "$f") does not verify"; }
  grep -q 'Signature verification: ok' "$T/verify.txt" || fail "osslsigncode did not say ok for $(basename "$f")"
done
# A changed byte in the signed program must break the signature.
cp "$exe" "$T/tampered.exe"
size=$(stat -c %s "$T/tampered.exe")
byte=$(od -An -tu1 -j $((size / 2)) -N1 "$T/tampered.exe" | tr -d ' ')
printf '%b' "\\x$(printf %02x $((byte ^ 255)))" | dd of="$T/tampered.exe" bs=1 seek=$((size / 2)) conv=notrunc status=none
cmp -s "$exe" "$T/tampered.exe" && fail "could not change a byte of the copy"
if osslsigncode verify -CAfile "$T/sign-cert.pem" -in "$T/tampered.exe" >/dev/null 2>&1; then
  fail "a tampered lifeboat.exe still verifies"
fi
# Three files were signed: the program, the uninstaller (makensis signs its
# temporary copy before packing it into the setup), and the setup.
[[ $(wc -l <"$T/signed.txt") -eq 3 ]] || fail "expected 3 signed files, got: $(cat "$T/signed.txt")"
ok "lifeboat.exe, its uninstaller and the setup are signed; the signatures verify and a changed byte breaks them"

# --- The setup program, run (Wine) ---
# Wine 8 (Debian 12) cannot start Go 1.26 programs (it lacks
# bcryptprimitives.dll), but it runs the setup and the uninstaller: a
# silent per-user install and uninstall in a throwaway Wine prefix.
wine=$(command -v wine64 || command -v wine || echo /usr/lib/wine/wine64)
wineserver=$(command -v wineserver || echo /usr/lib/wine/wineserver)
[[ -x "$wine" && -x "$wineserver" ]] || fail "Wine is not installed (bash installer/deps.sh dist)"
export WINEPREFIX=$T/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
w() { "$wine" "$@" </dev/null >>"$T/wine.log" 2>&1; }
w wineboot --init || { cat "$T/wine.log" >&2; fail "wineboot"; }
"$wineserver" -w
home=$WINEPREFIX/drive_c/users/$(id -un)
[[ -d "$home" ]] || fail "wineboot made no profile folder $home"
# What must survive an uninstall: the user's settings and a backup.
mkdir -p "$home/AppData/Roaming/Lifeboat" "$WINEPREFIX/drive_c/Backups/Lifeboat"
echo '{"clientID":"kept"}' >"$home/AppData/Roaming/Lifeboat/settings.json"
echo 'a backup' >"$WINEPREFIX/drive_c/Backups/Lifeboat/README.txt"

w "$setup" /S || { cat "$T/wine.log" >&2; fail "the setup program failed"; }
"$wineserver" -w
inst=$home/AppData/Local/Programs/$NAME
cmp -s "$inst/lifeboat.exe" "$exe" || fail "the setup did not install lifeboat.exe into $inst"
[[ -f "$home/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/$NAME.lnk" ]] || fail "no Start-menu shortcut"
uninst="$inst/Uninstall $NAME.exe"
osslsigncode verify -CAfile "$T/sign-cert.pem" -in "$uninst" >"$T/verify.txt" 2>&1 ||
  { cat "$T/verify.txt" >&2; fail "the installed uninstaller's signature does not verify"; }
ukey="HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\$NAME"
rkey='HKCU\Software\Microsoft\Windows\CurrentVersion\Run'
"$wine" reg query "$ukey" >"$T/reg.txt" 2>/dev/null || fail "no uninstall entry in HKCU"
grep -qE "DisplayVersion +REG_SZ +$VERSION" "$T/reg.txt" || fail "uninstall entry: $(cat "$T/reg.txt")"
grep -qE 'UninstallString +REG_SZ +".*\\Uninstall '"$NAME"'\.exe"' "$T/reg.txt" || fail "uninstall entry: $(cat "$T/reg.txt")"
"$wine" reg query "$rkey" /v "$NAME" >"$T/reg.txt" 2>/dev/null || fail "no start-at-login entry"
grep -qE "lifeboat\.exe\" --tray" "$T/reg.txt" || fail "start-at-login entry: $(cat "$T/reg.txt")"
ok "the setup installs per user into AppData\\Local\\Programs with a Start-menu shortcut, a signed uninstaller, an HKCU uninstall entry and the --tray login entry"

w "$uninst" /S || { cat "$T/wine.log" >&2; fail "the uninstaller failed"; }
"$wineserver" -w  # the uninstaller reruns itself from a temporary copy
[[ ! -e "$inst" ]] || fail "the uninstaller left $(ls "$inst")"
[[ ! -e "$home/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/$NAME.lnk" ]] || fail "the uninstaller left the shortcut"
! "$wine" reg query "$ukey" >/dev/null 2>&1 || fail "the uninstaller left the uninstall entry"
! "$wine" reg query "$rkey" /v "$NAME" >/dev/null 2>&1 || fail "the uninstaller left the start-at-login entry"
grep -q kept "$home/AppData/Roaming/Lifeboat/settings.json" || fail "the uninstaller touched the settings"
[[ -f "$WINEPREFIX/drive_c/Backups/Lifeboat/README.txt" ]] || fail "the uninstaller touched the backup"
ok "the uninstaller removes the program, shortcut and registry entries, and leaves settings and backups alone"

end=$(date +%s)
echo "dist-test: build $((built - start)) s, checks $((end - built)) s"
echo "dist-test: $passed passed, 0 failed"
