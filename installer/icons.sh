#!/usr/bin/env bash
# Renders the icon set the packages need from the one drawing, assets/icon.svg:
#   assets/icon.png             512 px, FyneApp.toml's icon and `fyne package`'s
#   assets/icons/N.png          hicolor sizes for the .deb
#   assets/icon.ico             Windows (exe and setup), PNG-compressed entries
# The outputs are committed, so building needs no SVG renderer; run this
# (needs rsvg-convert, Debian package librsvg2-bin) after editing the SVG.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v rsvg-convert >/dev/null || { echo "icons.sh: needs rsvg-convert (apt-get install librsvg2-bin)" >&2; exit 1; }

mkdir -p assets/icons
for n in 16 24 32 48 64 128 256 512; do
  rsvg-convert -w "$n" -h "$n" -o "assets/icons/$n.png" assets/icon.svg
done
cp assets/icons/512.png assets/icon.png

# write_ico OUT PNG...: an ICO file whose entries are the PNGs themselves,
# which Windows reads since Vista. Layout: 6-byte header, 16 bytes per
# entry, then the images.
write_ico() {
  local out=$1; shift
  local tmp="$out.tmp.$$"
  le16() { printf '%b' "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))"; }
  le32() { le16 $(($1 & 65535)); le16 $((($1 >> 16) & 65535)); }
  {
    le16 0; le16 1; le16 $#
    local offset=$((6 + 16 * $#)) f w size
    for f in "$@"; do
      w=$(basename "$f" .png)
      size=$(stat -c %s "$f")
      # Width and height bytes: 0 means 256.
      printf '%b' "\\x$(printf %02x $((w & 255)))\\x$(printf %02x $((w & 255)))"
      printf '\x00\x00'   # palette colours, reserved
      le16 1; le16 32     # colour planes, bits per pixel
      le32 "$size"; le32 "$offset"
      offset=$((offset + size))
    done
    cat "$@"
  } >"$tmp"
  mv "$tmp" "$out"
}
write_ico assets/icon.ico assets/icons/{16,24,32,48,64,128,256}.png
echo "icons.sh: wrote assets/icon.png, assets/icons/*.png and assets/icon.ico"
