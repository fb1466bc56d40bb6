#!/usr/bin/env bash
# Run every benchmark and add its figures at the top of docs/benchmarks.md (earlier runs stay below).
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
# wrk and nginx from Debian, if missing (the HTTP benchmark compares Speakout with nginx).
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get install -y -q "${missing[@]}" >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SPEAKOUT_BENCH_HTTP_OUT="$tmp/http.md" "$py" bench/web.py
env -u DATABASE_URL SPEAKOUT_BENCH_OUT="$tmp/sqlite.md" "$py" bench/discussion.py >/dev/null
{
  echo "## Run of $(date -u '+%Y-%m-%d %H:%M') UTC (\`make bench\`)"
  echo
  echo "Figures depend on the machine (and on what else runs on it); compare runs on the same one."
  echo
  cat "$tmp/http.md"
  echo
  cat "$tmp/sqlite.md"
} > "$tmp/new.md"
# Interchange (issue 6): import and export of a generated 2,000-post, 100,000-reply WXR file.
env -u DATABASE_URL SPEAKOUT_BENCH_OUT="$tmp/interchange.md" "$py" bench/interchange.py >/dev/null
{ echo; cat "$tmp/interchange.md"; } >> "$tmp/new.md"
# Page weight of the report page and of the lists that show lead images (issue 21).
env SPEAKOUT_BENCH_OUT="$tmp/weight.md" "$py" bench/weight.py >/dev/null || true
[ -f "$tmp/weight.md" ] && { echo; cat "$tmp/weight.md"; } >> "$tmp/new.md"
# The newest run goes first; earlier runs stay below it, so a regression can be seen.
{
  echo "# Benchmarks"
  echo
  cat "$tmp/new.md"
  echo
  [ -f docs/benchmarks.md ] && tail -n +2 docs/benchmarks.md
} > "$tmp/out.md"
mv "$tmp/out.md" docs/benchmarks.md
cat "$tmp/new.md"
