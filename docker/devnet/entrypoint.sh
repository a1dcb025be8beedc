#!/bin/sh
# The devnet image's entry point: runs `chorus devnet` with the arguments
# given, and once the devnet is up writes where its aggregator and operators
# listen (they take free ports at start) as Prometheus file_sd targets, so
# the monitoring profile scrapes them.
#
#   CHORUS_DEVNET_DIR   the devnet folder (default /chorus/devnet)
#   CHORUS_TARGETS_DIR  where the targets go (default /chorus/targets)
set -eu

devnet_dir="${CHORUS_DEVNET_DIR:-/chorus/devnet}"
targets_dir="${CHORUS_TARGETS_DIR:-/chorus/targets}"
mkdir -p "$targets_dir"
# devnet.json newer than this marker is this run's, not a previous one's.
marker="$targets_dir/.started"
: >"$marker"

chorus devnet --dir "$devnet_dir" "$@" &
child=$!
# docker stop sends SIGTERM: pass it on, so that the devnet stops its nodes
# and chains (it handles SIGTERM like Ctrl-C).
trap 'kill -TERM "$child" 2>/dev/null || true' TERM INT

# One file_sd target list: [{"targets": ["host:port", ...]}].
write_targets() { # file addresses...
  file="$1"
  shift
  list=""
  for address in "$@"; do list="$list${list:+, }\"$address\""; done
  printf '[{"targets": [%s]}]\n' "$list" >"$file.tmp"
  mv "$file.tmp" "$file"
}

publish_targets() {
  info="$devnet_dir/devnet.json"
  # devnet.json is this project's own pretty-printed JSON: one key a line.
  aggregator=$(sed -n 's|^ *"url": "http://\([^"/]*\)".*|\1|p' "$info" | head -n 1)
  operators=$(sed -n 's|^ *"apiUrl": "http://\([^"/]*\)".*|\1|p' "$info")
  # shellcheck disable=SC2086 # one address per word
  write_targets "$targets_dir/operators.json" $operators
  write_targets "$targets_dir/aggregator.json" "$aggregator"
  printf 'http://%s\n' "$aggregator" >"$targets_dir/aggregator.url"
  echo "chorus-devnet: Prometheus targets written to $targets_dir" >&2
}

while kill -0 "$child" 2>/dev/null; do
  if [ -n "$(find "$devnet_dir" -maxdepth 1 -name devnet.json -newer "$marker" 2>/dev/null)" ]; then
    publish_targets
    break
  fi
  sleep 1
done

status=0
wait "$child" || status=$?
# A signal interrupts wait while the devnet is still stopping: wait again
# for its own exit status.
while kill -0 "$child" 2>/dev/null; do
  status=0
  wait "$child" || status=$?
done
exit "$status"
