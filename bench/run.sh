#!/usr/bin/env bash
# Run every benchmark and write docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
tmp=$(mktemp -d)
{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` on $(date -u +%Y-%m-%d). Figures depend on the machine; compare runs on the same one."
  echo
} > "$tmp/out.md"
env -u DATABASE_URL SPEAKOUT_BENCH_OUT="$tmp/sqlite.md" "$py" bench/discussion.py >/dev/null
cat "$tmp/sqlite.md" >> "$tmp/out.md"
# Interchange (issue 6): import and export of a generated 2,000-post, 100,000-reply WXR file.
env -u DATABASE_URL SPEAKOUT_BENCH_OUT="$tmp/interchange.md" "$py" bench/interchange.py >/dev/null
{ echo; cat "$tmp/interchange.md"; } >> "$tmp/out.md"
mv "$tmp/out.md" docs/benchmarks.md
cat docs/benchmarks.md
