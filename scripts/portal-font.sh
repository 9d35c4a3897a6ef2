#!/usr/bin/env bash
# Makes the portal's Bangla font, services/portal/static/fonts/noto-sans-bengali-{regular,bold}.woff2: Noto Sans
# Bengali (SIL Open Font License 1.1, from Debian's fonts-noto-core) cut down to the Bengali block
# (the stylesheet asks for it only for those characters), so a phone downloads ~40 KB once, not 200 KB.
# The result is committed; run this again only to change the font or the characters kept.
# Needs: apt-get install fonts-noto-core; .venv/bin/pip install fonttools brotli
set -euo pipefail
cd "$(dirname "$0")/.."
out=services/portal/static/fonts
for weight in Regular Bold; do
  lower=$(echo "$weight" | tr 'A-Z' 'a-z')
  .venv/bin/pyftsubset "/usr/share/fonts/truetype/noto/NotoSansBengali-$weight.ttf" \
    --unicodes="U+0964-0965,U+0980-09FF,U+200C-200D,U+25CC" \
    --layout-features='*' --flavor=woff2 --no-hinting --desubroutinize \
    --output-file="$out/noto-sans-bengali-$lower.woff2"
done
ls -l "$out"/*.woff2
