#!/usr/bin/env bash
# Generates the example knowledge base's PDF and DOCX, and the slide deck,
# workbook and scanned documents of examples/documents, from
# examples/sources (rebuilt when a source changes).
set -euo pipefail
source "$(dirname "$0")/common.sh"
"$(dirname "$0")/venv.sh"
SRC="$ROOT/examples/sources"
OUT="$ROOT/examples/bank-kb"
DOCS="$ROOT/examples/documents"
LATIN=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
CJK=/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
[[ -f "$LATIN" ]] || die "font $LATIN missing (Debian package fonts-dejavu-core)"
[[ -f "$CJK" ]] || die "CJK font $CJK missing (Debian package fonts-droid-fallback)"
STAMP="$DEPS/stamps/examples-$(cat "$SRC"/*.json "$ROOT/scripts/setup/make_examples.py" | sha256sum | cut -c1-16)"
if [[ -f "$STAMP" && -f "$OUT/credit-card-policy.pdf" && -f "$OUT/platinum-card.docx" && -f "$DOCS/branch-notice.pdf" ]]; then
  exit 0
fi
log "generating the example documents (PDF, DOCX, PPTX, XLSX, scans)"
"$DEPS/venv/bin/python" "$ROOT/scripts/setup/make_examples.py" "$SRC" "$OUT" "$DOCS" "$LATIN" "$CJK"
mkdir -p "$DEPS/stamps"
touch "$STAMP"
