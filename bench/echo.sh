#!/usr/bin/env bash
# README's main job: build lull's echo server (examples/echo) and the load
# generator (cmd/loadgen), start the server, run 1,000 connections of 1 KiB
# closed-loop echo against it for 10 seconds, print the report, and stop the
# server by its PID.
#
#   bash bench/echo.sh
#
# Settings from the environment: ECHO_ADDR (127.0.0.1:9001), ECHO_CONNS
# (1000), ECHO_SIZE (1024), ECHO_WARMUP (2s), ECHO_DURATION (10s).
set -euo pipefail

addr=${ECHO_ADDR:-127.0.0.1:9001}
conns=${ECHO_CONNS:-1000}
size=${ECHO_SIZE:-1024}
warmup=${ECHO_WARMUP:-2s}
duration=${ECHO_DURATION:-10s}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "building examples/echo and cmd/loadgen"
(cd "$root" && go build -o "$work/echo" ./examples/echo && go build -o "$work/loadgen" ./cmd/loadgen)

"$work/echo" -addr "$addr" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  grep -q '^listening on ' "$work/server.log" && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the echo server exited:"; cat "$work/server.log"; exit 1
  fi
  sleep 0.1
done
grep -q '^listening on ' "$work/server.log" || { echo "the echo server did not start listening on $addr within 10 s"; exit 1; }
cat "$work/server.log"

echo "+ loadgen -url ws://$addr/ -conns $conns -size $size -warmup $warmup -duration $duration"
status=0
"$work/loadgen" -url "ws://$addr/" -conns "$conns" -size "$size" -warmup "$warmup" -duration "$duration" || status=$?

kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=
echo "server stopped: $(tail -n 1 "$work/server.log")"
exit "$status"
