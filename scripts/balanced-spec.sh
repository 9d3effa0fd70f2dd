#!/usr/bin/env bash
# Runs Balanced's executable specification (the cucumber features of the
# balanced/balanced-api repository, revision 1.1) against a Poise server this
# script builds and starts, and prints how many scenarios passed.
#
# Usage:
#   scripts/balanced-spec.sh [--database-url URL] SPEC [cucumber arguments...]
#
#   SPEC    the balanced-api repository: a checkout (a directory holding
#           features/, fixtures/ and lib/) or its git directory (bare, or a
#           checkout's .git). It is only read: the features run from a copy.
#   --database-url URL
#           run the server on PostgreSQL. When psql is installed the run gets
#           a schema of its own in that database, dropped afterwards;
#           otherwise the database is used as it is, so give a scratch one.
#           Without it the server runs on SQLite in a temporary directory.
#   cucumber arguments, when given, select what runs, e.g.
#           features/cards.feature   features/orders.feature:12
#
# Environment:
#   POISE_BIN           a poise binary to run instead of building one
#   BALANCED_SPEC_KEEP  1 keeps the temporary directory (server log,
#                       cucumber output, JSON report) and prints its path
#
# Output: one line per scenario that did not pass (file:line, name, first
# failing step), then the totals, last line exactly
#   balanced-spec: N scenarios, P passed, F failed
# Exit status: 0 when every scenario passed, 1 when some did not, 2 on a
# usage error or a missing tool, 3 when the server or cucumber could not run.
#
# Needs Go, git, Ruby with cucumber, httparty, json-schema and uri_template
# (Debian: apt-get install ruby cucumber ruby-httparty ruby-json-schema
# ruby-uri-template). The specification was written for cucumber 1.3 on
# Ruby 2.0; the few adjustments a newer cucumber and Ruby need are made to
# the copy at run time (see write_adjustments below).

set -euo pipefail

die() { printf 'balanced-spec: %s\n' "$1" >&2; exit "${2:-2}"; }

database_url=""
if [ "${1:-}" = "--database-url" ]; then
  [ $# -ge 2 ] || die "--database-url needs a URL"
  database_url=$2
  shift 2
fi
[ $# -ge 1 ] || die "usage: $0 [--database-url URL] SPEC [cucumber arguments...]"
spec_src=$1
shift
[ -e "$spec_src" ] || die "$spec_src does not exist"

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
for tool in git ruby cucumber; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
ruby -e 'require "httparty"; require "json-schema"; require "uri_template"; require "test/unit/assertions"' 2>/dev/null ||
  die "Ruby lacks httparty, json-schema or uri_template (Debian: ruby-httparty ruby-json-schema ruby-uri-template)"

work=$(mktemp -d "${TMPDIR:-/tmp}/balanced-spec.XXXXXX")
server_pid=""
schema=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$schema" ]; then
    psql "$database_url" -q -c "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1 || true
  fi
  if [ "${BALANCED_SPEC_KEEP:-0}" = 1 ]; then
    printf 'balanced-spec: kept %s\n' "$work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- a copy of the specification ------------------------------------------
mkdir "$work/spec"
if [ "$(git --git-dir="$spec_src" rev-parse --is-bare-repository 2>/dev/null)" = true ] ||
   [ "$(git -C "$spec_src" rev-parse --is-inside-git-dir 2>/dev/null)" = true ]; then
  git --git-dir="$spec_src" archive HEAD | tar -x -C "$work/spec"
  spec_rev=$(git --git-dir="$spec_src" rev-parse --short HEAD)
elif [ -d "$spec_src/features" ]; then
  cp -R "$spec_src/." "$work/spec/"
  rm -rf "$work/spec/.git"
  spec_rev="checkout"
else
  die "$spec_src is neither the balanced-api git directory nor a checkout of it"
fi
[ -f "$work/spec/features/support/initial_setup.rb" ] || die "$spec_src holds no features/support/initial_setup.rb: not balanced-api?"

# The adjustments, each to the copy only:
# - its steps call assert_equal and assert_not_nil, which cucumber 1.3 mixed
#   in from test/unit; cucumber 2.4 offers minitest's, which lack the latter;
# - its client calls File.exists?, gone from Ruby 3.2;
# - an unanswered request must fail its scenario, not hang the run.
write_adjustments() {
  cat >"$work/spec/features/support/00_runtime_adjustments.rb" <<'RUBY'
require 'test/unit/assertions'
World(Test::Unit::Assertions)
File.singleton_class.send(:alias_method, :exists?, :exist?) unless File.respond_to?(:exists?)
require 'httparty'
HTTParty::Basement.default_timeout(30)
RUBY
}
write_adjustments

# --- the server ---------------------------------------------------------------
poise=${POISE_BIN:-}
if [ -z "$poise" ]; then
  command -v go >/dev/null || die "go is not installed (or set POISE_BIN)"
  (cd "$repo_root" && go build -o "$work/poise" ./cmd/poise) || die "building poise failed" 3
  poise="$work/poise"
fi

store_args=(--data-dir "$work/data")
store_name="SQLite"
if [ -n "$database_url" ]; then
  url=$database_url
  if command -v psql >/dev/null; then
    schema="balanced_spec_$(date +%s)_$$"
    psql "$database_url" -q -c "CREATE SCHEMA $schema" >/dev/null || die "cannot create a schema in $database_url" 3
    case "$url" in *\?*) url="$url&search_path=$schema" ;; *) url="$url?search_path=$schema" ;; esac
  fi
  store_args=(--database-url "$url")
  store_name="PostgreSQL"
fi

: >"$work/server.log"
# A loopback address: the spec opens its marketplace with POST /api_keys,
# which Poise leaves open only there (or with --open-signup).
"$poise" serve --listen 127.0.0.1:0 "${store_args[@]}" \
  --encryption-key "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  >"$work/server.log" 2>&1 &
server_pid=$!
addr=""
for _ in $(seq 1 300); do
  addr=$(sed -n 's/.*"msg":"listening","addr":"\([^"]*\)".*/\1/p' "$work/server.log" | head -n1 || true)
  [ -n "$addr" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; die "poise serve exited before listening" 3; }
  sleep 0.1
done
[ -n "$addr" ] || { cat "$work/server.log" >&2; die "poise serve did not listen within 30 s" 3; }

printf 'balanced-spec: spec %s, server %s on %s, %s\n' "$spec_rev" "$addr" "$store_name" "$(cucumber --version | tail -n1 | sed 's/^/cucumber /')"

# --- the run --------------------------------------------------------------
set +e
(cd "$work/spec" && BALANCED_ROOT="http://$addr" cucumber --no-color -r features \
  --format progress --format json --out "$work/report.json" "$@" >"$work/cucumber.log" 2>&1)
cucumber_status=$?
set -e
if [ ! -s "$work/report.json" ]; then
  tail -n 20 "$work/cucumber.log" >&2
  die "cucumber wrote no report (exit $cucumber_status)" 3
fi

# A scenario passes when its background, its steps and its hooks all passed.
ruby -rjson -e '
  total = passed = 0
  JSON.parse(File.read(ARGV[0])).each do |feature|
    background = nil
    (feature["elements"] || []).each do |el|
      if el["type"] == "background"
        background = el
        next
      end
      next unless el["type"] == "scenario"
      steps = (background ? background["steps"] : []) + (el["steps"] || [])
      results = (el["before"] || []) + steps + (el["after"] || [])
      results += steps.flat_map { |s| s["after"] || [] }
      background = nil
      bad = results.find { |r| (r["result"] || {})["status"] != "passed" }
      total += 1
      if bad
        why = bad["name"] ? "#{bad["keyword"]}#{bad["name"]}" : "a hook"
        msg = (bad["result"] || {})["error_message"].to_s.lines.first.to_s.strip[0, 160]
        puts "  FAILED #{feature["uri"]}:#{el["line"]} #{el["name"]} | #{why}: #{(bad["result"] || {})["status"]} #{msg}"
      else
        passed += 1
      end
    end
  end
  puts "balanced-spec: #{total} scenarios, #{passed} passed, #{total - passed} failed"
  exit(passed == total ? 0 : 1)
' "$work/report.json"
