#!/usr/bin/env bash
# Builds the web UI: the pinned npm packages (TypeScript, playwright-core
# for the browser tests, the MCP Inspector CLI for tests/agent/mcp_test.py)
# from web/package-lock.json, then tsc into web/dist.
# npm ci runs again only when the lock file changes.
set -euo pipefail
source "$(dirname "$0")/common.sh"
WEB="$ROOT/web"
command -v npm >/dev/null || die "npm is missing: install Node.js 20 (Debian package nodejs)"
STAMP="$WEB/node_modules/.ragd-lock-$(sha256sum "$WEB/package-lock.json" | cut -c1-16)"
if [[ ! -f "$STAMP" ]]; then
  log "installing the web UI's npm packages (TypeScript, playwright-core)"
  (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$STAMP"
fi
(cd "$WEB" && ./node_modules/.bin/tsc -p tsconfig.json)
