#!/usr/bin/env bash
# Generates the example knowledge base's PDF and DOCX from examples/sources
# (rebuilt when a source changes).
set -euo pipefail
source "$(dirname "$0")/common.sh"
"$(dirname "$0")/venv.sh"
SRC="$ROOT/examples/sources"
OUT="$ROOT/examples/bank-kb"
LATIN=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
CJK=/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
[[ -f "$LATIN" ]] || die "font $LATIN missing (Debian package fonts-dejavu-core)"
[[ -f "$CJK" ]] || die "CJK font $CJK missing (Debian package fonts-droid-fallback)"
STAMP="$DEPS/stamps/examples-$(cat "$SRC"/*.json "$ROOT/scripts/setup/make_examples.py" | sha256sum | cut -c1-16)"
if [[ -f "$STAMP" && -f "$OUT/credit-card-policy.pdf" && -f "$OUT/platinum-card.docx" ]]; then exit 0; fi
log "generating the example PDF and DOCX"
"$DEPS/venv/bin/python" "$ROOT/scripts/setup/make_examples.py" "$SRC" "$OUT" "$LATIN" "$CJK"
mkdir -p "$DEPS/stamps"
touch "$STAMP"
