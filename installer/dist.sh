#!/usr/bin/env bash
# dist.sh [all|linux|windows]: builds Lifeboat's downloads into dist/ (or
# $DIST), with SHA256SUMS. `make dist` runs `dist.sh all`, which builds
# every package this machine can and says which ones it cannot and why;
# with LIFEBOAT_DIST_STRICT=1 (make dist-test) a package it cannot build is
# an error instead.
#
#   linux    lifeboat-V-linux-amd64.tar.xz   `fyne package`: binary, .desktop, icon, Makefile
#            lifeboat_V-B_amd64.deb          /usr/bin/lifeboat, desktop entry, hicolor icons
#   windows  lifeboat-V-windows-amd64.exe    the program, icon and version resource embedded
#            Lifeboat-V-setup.exe            NSIS per-user installer
#
# V and B are Version and Build from FyneApp.toml, the single source of the
# app's metadata. Windows programs are signed when LIFEBOAT_SIGN_CERT and
# LIFEBOAT_SIGN_KEY are set (see installer/windows/sign.sh). The macOS
# .dmg is built on a Mac with installer/macos/build-dmg.sh.
# Packaging tools: `bash installer/deps.sh dist` installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"

GO=${GO:-go}
DIST=${DIST:-dist}
WORK=$ROOT/bin/dist-work
FYNE_TOOLS=fyne.io/tools/cmd/fyne@v1.7.4
STRICT=${LIFEBOAT_DIST_STRICT:-0}

die() { echo "dist.sh: $*" >&2; exit 1; }
say() { echo "dist.sh: $*" >&2; }

# meta KEY: a value from FyneApp.toml. Keys are unique across its tables,
# so a line match is enough and keeps the build free of a TOML tool.
meta() {
  local v
  v=$(sed -n "s/^$1 *= *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" FyneApp.toml | head -1)
  [[ -n "$v" ]] || die "FyneApp.toml has no $1"
  # The values end up in resource scripts, NSIS defines and a Debian
  # control file: keep them to characters that need no quoting there.
  [[ "$v" =~ ^[][A-Za-z0-9\ .,:/_+\(\)-]+$ ]] || die "FyneApp.toml: $1 = \"$v\" has characters the packages cannot carry"
  printf '%s' "$v"
}

NAME=$(meta Name)
APPID=$(meta ID)
VERSION=$(meta Version)
BUILD=$(meta Build)
COMMENT=$(meta Comment)
WEBSITE=$(meta Website)
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "FyneApp.toml: Version \"$VERSION\" is not x.y.z"
[[ "$BUILD" =~ ^[0-9]+$ && "$BUILD" -le 65535 ]] || die "FyneApp.toml: Build \"$BUILD\" is not a number up to 65535"
VERSION4="$VERSION.$BUILD"
LDFLAGS="-s -w -X main.version=$VERSION -X main.build=$BUILD"

mkdir -p "$DIST" "$WORK"
DIST=$(cd "$DIST" && pwd)

# missing TOOL...: prints the tools that are not installed.
missing() {
  local t out=()
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || out+=("$t"); done
  echo "${out[*]:-}"
}

# cannot WHAT WHY: a package this machine cannot build.
cannot() {
  if [[ "$STRICT" == 1 ]]; then die "cannot build $1: $2"; fi
  say "skipping $1: $2"
}

# fyne_cli: the pinned fyne CLI, installed into bin/ on first use.
fyne_cli() {
  local bin=$ROOT/bin/tools/fyne-${FYNE_TOOLS##*@}
  if [[ ! -x "$bin" ]]; then
    say "installing $FYNE_TOOLS into bin/tools"
    mkdir -p "$ROOT/bin/tools/gobin"
    GOBIN=$ROOT/bin/tools/gobin "$GO" install "$FYNE_TOOLS"
    mv "$ROOT/bin/tools/gobin/fyne" "$bin"
  fi
  echo "$bin"
}

build_linux() {
  local m
  m=$(missing gcc tar xz dpkg-deb dpkg-shlibdeps)
  [[ -z "$m" ]] || { cannot "the Linux packages" "missing $m (run: bash installer/deps.sh dist)"; return 0; }
  [[ "$(uname -s)" == Linux ]] || { cannot "the Linux packages" "they are built on Linux"; return 0; }

  local w=$WORK/linux arch
  rm -rf "$w" && mkdir -p "$w"
  arch=$(dpkg --print-architecture)
  say "building lifeboat $VERSION (build $BUILD) for Linux/$arch"
  CGO_ENABLED=1 "$GO" build -trimpath -ldflags "$LDFLAGS" -o "$w/lifeboat" ./app

  # fyne package refuses a folder without Go code even when handed a built
  # program, and bumps Build in the FyneApp.toml it reads: so it works on
  # a copy of the metadata in a scratch folder, never on the repository's.
  local stage=$w/fyne-stage fyne
  fyne=$(fyne_cli)
  mkdir -p "$stage/assets"
  cp FyneApp.toml "$stage/"
  cp assets/icon.png "$stage/assets/"
  printf '// Scratch folder for fyne package; see installer/dist.sh.\npackage stage\n' >"$stage/stage.go"
  (cd "$stage" && XZ_OPT=-T0 "$fyne" package --target linux --executable "$w/lifeboat" \
    --app-version "$VERSION" --app-build "$BUILD" >/dev/null)
  local tarball=$DIST/lifeboat-$VERSION-linux-$arch.tar.xz
  mv "$stage/$NAME.tar.xz" "$tarball.tmp" && mv "$tarball.tmp" "$tarball"
  say "wrote ${tarball#"$ROOT"/}"

  # The .deb: the same program and desktop entry, installed under /usr.
  local root=$w/deb
  install -Dm755 "$w/lifeboat" "$root/usr/bin/lifeboat"
  mkdir -p "$root/usr/share/applications"
  tar -xJf "$tarball" --wildcards -O "*/share/applications/$APPID.desktop" >"$root/usr/share/applications/$APPID.desktop"
  grep -qx 'Exec=lifeboat' "$root/usr/share/applications/$APPID.desktop" || die "the desktop entry from fyne package does not run lifeboat"
  local n
  for n in 16 24 32 48 64 128 256 512; do
    install -Dm644 "assets/icons/$n.png" "$root/usr/share/icons/hicolor/${n}x$n/apps/$APPID.png"
  done
  install -Dm644 assets/icon.svg "$root/usr/share/icons/hicolor/scalable/apps/$APPID.svg"
  install -Dm644 LICENSE "$root/usr/share/doc/lifeboat/copyright"

  # Runtime libraries, as Debian's own tools derive them from the program's
  # dynamic section (dpkg-shlibdeps wants a debian/control to exist).
  local depends
  mkdir -p "$w/shlibs/debian" && : >"$w/shlibs/debian/control"
  depends=$(cd "$w/shlibs" && dpkg-shlibdeps -O "$root/usr/bin/lifeboat" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
  [[ -n "$depends" ]] || die "dpkg-shlibdeps found no library dependencies for lifeboat"
  # GLFW (Fyne's window layer) opens these X11 libraries with dlopen, where
  # dpkg-shlibdeps cannot see them; without them the window does not open.
  local sonames so pkg
  sonames=$(strings "$w/lifeboat" | grep -E '^lib[A-Za-z0-9_-]+\.so\.[0-9]+$' | sort -u)
  for so in libXcursor.so.1:libxcursor1 libXi.so.6:libxi6 libXinerama.so.1:libxinerama1 \
    libXrandr.so.2:libxrandr2 libXrender.so.1:libxrender1 libXxf86vm.so.1:libxxf86vm1; do
    pkg=${so#*:}
    so=${so%%:*}
    if grep -qx "$so" <<<"$sonames"; then depends+=", $pkg"; fi
  done

  mkdir -p "$root/DEBIAN"
  cat >"$root/DEBIAN/control" <<EOF
Package: lifeboat
Version: $VERSION-$BUILD
Architecture: $arch
Maintainer: The $NAME authors <noreply@lifeboat.example>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Recommends: gnome-keyring | kwalletmanager
Section: utils
Priority: optional
Homepage: $WEBSITE
Description: $COMMENT
 $NAME keeps a copy of a small company's Microsoft 365 email and OneDrive
 files on a USB drive, a local disk or a network share, encrypted, and
 brings back what was deleted in a few clicks. One program: the app, and
 the lifeboat command line for scheduled and scripted backups.
EOF
  local deb=$DIST/lifeboat_${VERSION}-${BUILD}_$arch.deb
  dpkg-deb --root-owner-group -Zxz --build "$root" "$deb.tmp" >/dev/null
  mv "$deb.tmp" "$deb"
  say "wrote ${deb#"$ROOT"/} (Depends: $depends)"
}

build_windows() {
  local m
  m=$(missing x86_64-w64-mingw32-gcc x86_64-w64-mingw32-windres makensis)
  [[ -z "$m" ]] || { cannot "the Windows programs" "missing $m (run: bash installer/deps.sh dist)"; return 0; }
  local sign=""
  if [[ -n "${LIFEBOAT_SIGN_CERT:-}" || -n "${LIFEBOAT_SIGN_KEY:-}" ]]; then
    [[ -r "${LIFEBOAT_SIGN_CERT:-}" && -r "${LIFEBOAT_SIGN_KEY:-}" ]] || die "LIFEBOAT_SIGN_CERT and LIFEBOAT_SIGN_KEY must both name readable files"
    [[ -z "$(missing osslsigncode)" ]] || die "signing needs osslsigncode (run: bash installer/deps.sh dist)"
    sign="bash $ROOT/installer/windows/sign.sh"
  fi

  local w=$WORK/windows
  rm -rf "$w" && mkdir -p "$w"
  say "building lifeboat.exe $VERSION (build $BUILD) for Windows/amd64"
  local subst=(-e "s|@NAME@|$NAME|g" -e "s|@ID@|$APPID|g" -e "s|@VERSION@|$VERSION|g"
    -e "s|@BUILD@|$BUILD|g" -e "s|@VERSION4@|$VERSION4|g" -e "s|@VERSIONC@|${VERSION4//./,}|g"
    -e "s|@COMMENT@|$COMMENT|g" -e "s|@ICO@|$ROOT/assets/icon.ico|g" -e "s|@MANIFEST@|$w/lifeboat.manifest|g")
  sed "${subst[@]}" installer/windows/lifeboat.manifest.in >"$w/lifeboat.manifest"
  sed "${subst[@]}" installer/windows/lifeboat.rc.in >"$w/lifeboat.rc"

  # go build links every .syso in the package folder; the name limits it to
  # windows/amd64 builds, and it is removed again straight after.
  local syso=$ROOT/app/zz_dist_resources_windows_amd64.syso
  x86_64-w64-mingw32-windres -O coff -i "$w/lifeboat.rc" -o "$syso"
  trap 'rm -f "'"$syso"'"' EXIT
  CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
    "$GO" build -trimpath -ldflags "-H windowsgui $LDFLAGS" -o "$w/lifeboat.exe" ./app
  rm -f "$syso"
  trap - EXIT
  [[ -z "$sign" ]] || $sign "$w/lifeboat.exe"

  local setup=$DIST/$NAME-$VERSION-setup.exe
  local nsis=(-V2 -INPUTCHARSET UTF8 "-DNAME=$NAME" "-DVERSION=$VERSION" "-DVERSION4=$VERSION4"
    "-DWEBSITE=$WEBSITE" "-DEXE=$w/lifeboat.exe" "-DICON=$ROOT/assets/icon.ico" "-DOUTFILE=$w/${setup##*/}")
  [[ -z "$sign" ]] || nsis+=("-DSIGN=$sign")
  makensis "${nsis[@]}" installer/windows/lifeboat.nsi >/dev/null
  mv "$w/${setup##*/}" "$setup"
  cp "$w/lifeboat.exe" "$DIST/lifeboat-$VERSION-windows-amd64.exe.tmp"
  mv "$DIST/lifeboat-$VERSION-windows-amd64.exe.tmp" "$DIST/lifeboat-$VERSION-windows-amd64.exe"
  say "wrote ${setup#"$ROOT"/} and ${DIST#"$ROOT"/}/lifeboat-$VERSION-windows-amd64.exe${sign:+ (signed)}"
}

build_macos() {
  if [[ "$(uname -s)" == Darwin ]]; then
    DIST=$DIST bash installer/macos/build-dmg.sh
  else
    say "skipping the macOS .dmg: it is built on a Mac (installer/macos/build-dmg.sh)"
  fi
}

checksums() {
  (
    cd "$DIST"
    shopt -s nullglob
    local files=(*.deb *.tar.xz *.exe *.dmg)
    [[ ${#files[@]} -gt 0 ]] || die "nothing was built"
    # Same output format; macOS has shasum instead of sha256sum.
    if command -v sha256sum >/dev/null; then
      sha256sum -- "${files[@]}" >SHA256SUMS.tmp
    else
      shasum -a 256 -- "${files[@]}" >SHA256SUMS.tmp
    fi
    mv SHA256SUMS.tmp SHA256SUMS
  )
  say "wrote ${DIST#"$ROOT"/}/SHA256SUMS"
}

case "${1:-all}" in
all)
  # Drop the last build's packages (only those: DIST may be any folder),
  # so SHA256SUMS lists this build and nothing older.
  rm -f "$DIST"/lifeboat[-_]* "$DIST"/"$NAME"-*-setup.exe "$DIST"/SHA256SUMS
  build_linux
  build_windows
  build_macos
  ;;
linux) build_linux ;;
windows) build_windows ;;
*) die "usage: dist.sh [all|linux|windows]" ;;
esac
checksums
