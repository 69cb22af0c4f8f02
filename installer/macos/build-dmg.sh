#!/usr/bin/env bash
# build-dmg.sh: builds Lifeboat.app and Lifeboat-V.dmg into dist/ (or $DIST)
# on a Mac. Needs Go 1.26 and the Xcode command line tools
# (xcode-select --install); the fyne CLI is installed into bin/ on first use.
#
# The program is universal (Apple silicon and Intel). The app is signed
# with LIFEBOAT_MAC_SIGN_IDENTITY (a "Developer ID Application: ..."
# certificate in the keychain) when set, else ad hoc, which runs on the
# Mac that built it; a download for others also needs notarizing:
#   xcrun notarytool submit dist/Lifeboat-V.dmg --keychain-profile P --wait
#   xcrun stapler staple dist/Lifeboat-V.dmg
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

if [[ "$(uname -s)" != Darwin ]]; then
  cat >&2 <<'MSG'
build-dmg.sh: the macOS app and .dmg can only be built on a Mac: they need Apple's
compilers and SDK for cgo (Fyne uses OpenGL and Cocoa), codesign and hdiutil, and none
of those exist on Linux or Windows. Run this script on a Mac with Go and the Xcode
command line tools; `make dist` on Linux builds the Linux and Windows packages.
MSG
  exit 1
fi

export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
GO=${GO:-go}
DIST=${DIST:-dist}
FYNE_TOOLS=fyne.io/tools/cmd/fyne@v1.7.4
for t in "$GO" clang lipo codesign hdiutil; do
  command -v "$t" >/dev/null || { echo "build-dmg.sh: $t not found (install Go and run xcode-select --install)" >&2; exit 1; }
done

meta() { sed -n "s/^$1 *= *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" FyneApp.toml | head -1; }
NAME=$(meta Name)
VERSION=$(meta Version)
BUILD=$(meta Build)
[[ -n "$NAME" && "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ && "$BUILD" =~ ^[0-9]+$ ]] || {
  echo "build-dmg.sh: FyneApp.toml needs Name, Version (x.y.z) and Build" >&2; exit 1; }

w=$ROOT/bin/dist-work/macos
rm -rf "$w" && mkdir -p "$w/stage/assets" "$DIST"
DIST=$(cd "$DIST" && pwd)

fyne=$ROOT/bin/tools/fyne-${FYNE_TOOLS##*@}
if [[ ! -x "$fyne" ]]; then
  mkdir -p "$ROOT/bin/tools/gobin"
  GOBIN=$ROOT/bin/tools/gobin "$GO" install "$FYNE_TOOLS"
  mv "$ROOT/bin/tools/gobin/fyne" "$fyne"
fi

for arch in arm64 amd64; do
  echo "build-dmg.sh: building lifeboat $VERSION (build $BUILD) for macOS/$arch" >&2
  CGO_ENABLED=1 GOOS=darwin GOARCH=$arch MACOSX_DEPLOYMENT_TARGET=11.0 \
    "$GO" build -trimpath -ldflags "-s -w -X main.version=$VERSION -X main.build=$BUILD" \
    -o "$w/lifeboat-$arch" ./app
done
lipo -create -output "$w/lifeboat" "$w/lifeboat-arm64" "$w/lifeboat-amd64"

# fyne package works on a copy of the metadata (it bumps Build in the file
# it reads) in a scratch folder, which must hold some Go code.
cp FyneApp.toml "$w/stage/"
cp assets/icon.png "$w/stage/assets/"
printf '// Scratch folder for fyne package; see installer/macos/build-dmg.sh.\npackage stage\n' >"$w/stage/stage.go"
(cd "$w/stage" && "$fyne" package --target darwin --executable "$w/lifeboat" \
  --app-version "$VERSION" --app-build "$BUILD")
app=$w/stage/$NAME.app
[[ -d "$app" ]] || { echo "build-dmg.sh: fyne package made no $NAME.app" >&2; exit 1; }

codesign --force --deep --options runtime --timestamp=none \
  --sign "${LIFEBOAT_MAC_SIGN_IDENTITY:--}" "$app"
codesign --verify --deep --strict "$app"

# The disk image: the app and a shortcut to Applications to drag it onto.
mkdir -p "$w/dmg"
cp -R "$app" "$w/dmg/"
ln -s /Applications "$w/dmg/Applications"
dmg=$DIST/$NAME-$VERSION.dmg
rm -f "$dmg"
hdiutil create -volname "$NAME $VERSION" -srcfolder "$w/dmg" -fs HFS+ -format UDZO -ov "$dmg.tmp.dmg" >/dev/null
mv "$dmg.tmp.dmg" "$dmg"
echo "build-dmg.sh: wrote ${dmg#"$ROOT"/}" >&2
