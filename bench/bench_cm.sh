#!/bin/sh
# bench_cm.sh - the CM's read path under wrk:
#   1. GET /crawler/detail with 100 stores registered (names rotate per request);
#   2. GET /crawler/list with 10,000 store rows in the metaDB.
# Rows are inserted straight into the SQLite metaDB (schema created by the CM
# itself on a first start), then the CM is restarted with cm.supervisor=false
# and a long cm.host.lost_ms so the rows count as live stores. Prints
# requests/s and p99 latency for each; goal for detail: >= 20k req/s with
# p99 < 5 ms. wrk and the CM share this machine's cores.
set -eu
B=${OX_BUILD_DIR:-build}
OXBOW=$B/oxbow
PY=/usr/bin/python3
DUR=${OX_BENCH_SECONDS:-10}
T=$(mktemp -d /tmp/oxbow-bench-cm.XXXXXX)
CMPID=
cleanup() {
    [ -n "$CMPID" ] && kill "$CMPID" 2>/dev/null && wait "$CMPID" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT

PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/cm.properties" <<CFG
cm.port=$PORT
cm.data.dir=$T/data
cm.supervisor=false
cm.host.lost_ms=86400000
cm.location=111
${OX_BENCH_CM_EXTRA:-}
CFG

start_cm() {
    "$OXBOW" cm --config "$T/cm.properties" >>"$T/cm.log" 2>&1 &
    CMPID=$!
    i=0
    until curl -sf "http://127.0.0.1:$PORT/cm/health" >/dev/null; do
        i=$((i + 1)); [ $i -lt 200 ] || { cat "$T/cm.log"; exit 1; }
        sleep 0.05
    done
}
stop_cm() {
    kill "$CMPID"; wait "$CMPID" 2>/dev/null || true; CMPID=
}

# fill N: N crawler rows of one topic on one host, each with a status that
# carries the seed's checkpoint pair.
fill() {
    $PY - "$T/data/metadb.sqlite" "$1" <<'PYEOF'
import json, sqlite3, sys, time
db, n = sys.argv[1], int(sys.argv[2])
now = int(time.time() * 1000)
cp = lambda m: {"checkpoint": "127.0.0.1:3306:1:%d:1663049354:%d" % (m * 100, m),
                "dataSource": "127.0.0.1:3306", "dbIp": 2130706433, "dbIpString": "127.0.0.1",
                "dbPort": 3306, "fileIdx": 1, "gmt": None, "msgId": m, "offset": m * 100,
                "timestamp": 1663049354}
c = sqlite3.connect(db)
c.execute("DELETE FROM ox_crawlers"); c.execute("DELETE FROM ox_topics"); c.execute("DELETE FROM ox_hosts")
c.execute("INSERT INTO ox_topics (name, db_type, host, port, username, password, whitelist,"
          " blacklist, next_sub_id, created_ms) VALUES ('bench','mysql','127.0.0.1',3306,'u','pw',"
          "'','',?,?)", (n + 1, now))
c.execute("INSERT INTO ox_hosts (id, ip, port, last_heartbeat_ms, created_ms) VALUES ('127.0.0.1-7100','127.0.0.1',7100,?,?)", (now + 86400000, now))
msg = "[Fri Sep 16 10:24:07 2022] DRC_500:Store started successfully\n"
rows = []
for i in range(1, n + 1):
    name = "127.0.0.1-7100:bench-000-0:%010d" % i
    st = json.dumps({"name": name, "status": 0, "errMsg": msg, "datasource": "127.0.0.1:3306",
                     "checkpoints": [cp(1), cp(1000 + i)]})
    rows.append((name, "bench", i, "127.0.0.1-7100", 17000 + i, "master", "mysql2store",
                 "", "", "running", 0, msg, st, now, now))
c.executemany("INSERT INTO ox_crawlers (name, topic, sub_id, host_id, port, role, type, user_data,"
              " checkpoint, desired, status, err_msg, status_json, status_ms, created_ms)"
              " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
c.commit()
PYEOF
}

# run_wrk LABEL CONNECTIONS PATH [LUA]: prints req/s and p99.
run_wrk() {
    label=$1 conns=$2 path=$3 lua=${4:-}
    if [ -n "$lua" ]; then
        out=$(wrk -t2 -c"$conns" -d"${DUR}s" --latency -s "$lua" "http://127.0.0.1:$PORT$path")
    else
        out=$(wrk -t2 -c"$conns" -d"${DUR}s" --latency "http://127.0.0.1:$PORT$path")
    fi
    rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
    p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
    errs=$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $NF}')
    printf '%-44s %10s req/s   p99 %8s   non-2xx %s\n' "$label" "$rps" "$p99" "${errs:-0}"
}

start_cm
stop_cm

fill 100
start_cm
cat >"$T/detail.lua" <<'LUA'
-- Rotates over the 100 registered stores.
local i = 0
request = function()
  i = i % 100 + 1
  return wrk.format("GET", string.format(
    "/crawler/detail?filters=&crawler=127.0.0.1-7100:bench-000-0:%010d", i))
end
LUA
curl -sf "http://127.0.0.1:$PORT/crawler/detail?filters=&crawler=127.0.0.1-7100:bench-000-0:0000000042" |
    grep -q '"isSuccess":true' || { echo "detail check failed"; exit 1; }
run_wrk "crawler/detail, 100 stores, 50 conns" 50 / "$T/detail.lua"
run_wrk "crawler/detail, 100 stores, 10 conns" 10 / "$T/detail.lua"
stop_cm

fill 10000
start_cm
n=$(curl -sf "http://127.0.0.1:$PORT/crawler/list" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["crawlers"]))')
[ "$n" = 10000 ] || { echo "crawler/list returned $n rows, expected 10000"; exit 1; }
bytes=$(curl -sf "http://127.0.0.1:$PORT/crawler/list" | wc -c)
echo "crawler/list response: $n rows, $bytes bytes"
run_wrk "crawler/list, 10000 stores, 4 conns" 4 /crawler/list
run_wrk "crawler/detail, 10000 stores, 50 conns" 50 / "$T/detail.lua"
stop_cm
echo "goal: crawler/detail >= 20000 req/s with p99 < 5 ms"
