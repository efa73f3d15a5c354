#!/bin/sh
# demo.sh BUILD_DIR - the whole system on the embedded defaults, end to end:
# a private MariaDB, `oxbow cm` (SQLite metaDB, loopback, in-process
# supervisor), a topic and a store created through the CM's HTTP API with
# curl, sample rows, crawler/detail, a few change records from `oxbow tail`,
# then the seed's commands with the real CM_URL and store name. Everything
# lives in one mktemp directory; the printed stop script ends the processes
# by PID and removes it. `make demo` runs deps + build first.
set -eu

build=${1:-build}
OXBOW=$(cd "$build" && pwd)/oxbow
[ -x "$OXBOW" ] || { echo "demo: $OXBOW not built (run make build)" >&2; exit 1; }
PY=/usr/bin/python3

T=$(mktemp -d /tmp/oxbow-demo.XXXXXX)
chmod 700 "$T"
say() { printf '\n== %s\n' "$*"; }

# A TCP port on 127.0.0.1: the preferred one if it is free, else any free one.
port() {
    $PY - "$1" <<'PYEOF'
import socket, sys
want = int(sys.argv[1])
for p in ([want] if want else []) + [0]:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        print(s.getsockname()[1])
        break
    except OSError:
        pass
    finally:
        s.close()
PYEOF
}

cleanup_on_error() {
    echo "demo: failed; logs are in $T (cm.log, mariadb.log)" >&2
    [ -f "$T/stop.sh" ] && sh "$T/stop.sh" keep >/dev/null 2>&1 || true
}
trap cleanup_on_error EXIT

MPORT=$(port 0)
CMPORT=$(port 8088)
SVPORT=$(port 7100)

say "1. private MariaDB on 127.0.0.1:$MPORT (binlog ROW) in $T/mariadb"
mariadb-install-db --no-defaults --datadir="$T/mariadb" --user=root \
    --auth-root-authentication-method=normal >/dev/null 2>&1
mariadbd --no-defaults --datadir="$T/mariadb" --user=root --socket="$T/mariadb.sock" \
    --port="$MPORT" --bind-address=127.0.0.1 --log-bin="$T/mariadb/mysql-bin" \
    --server-id=1 --binlog-format=ROW --binlog-row-metadata=FULL \
    --log-error="$T/mariadb.log" --skip-name-resolve >/dev/null 2>&1 &
MPID=$!
cat >"$T/stop.sh" <<STOP
#!/bin/sh
# Stops the oxbow demo: the CM (which stops its stores) and MariaDB, by PID.
kill $MPID 2>/dev/null || true
STOP
i=0
until mariadb --no-defaults -S "$T/mariadb.sock" -uroot -e 'select 1' >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "demo: MariaDB did not start" >&2; exit 1; }
    sleep 0.1
done
PW=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
mariadb --no-defaults -S "$T/mariadb.sock" -uroot <<SQL
CREATE USER 'ox'@'%' IDENTIFIED BY '$PW';
GRANT ALL PRIVILEGES ON *.* TO 'ox'@'%';
CREATE DATABASE shop;
CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(40), qty INT);
SQL
echo "MariaDB pid $MPID; user ox (password only in $T/topic.body, mode 0600)"

say "2. oxbow cm on 127.0.0.1:$CMPORT (SQLite metaDB, in-process supervisor on port $SVPORT)"
cat >"$T/cm.properties" <<CFG
cm.port=$CMPORT
cm.data.dir=$T/cm
cm.location=111
supervisor.port=$SVPORT
supervisor.stop.stores=true
CFG
"$OXBOW" cm --config "$T/cm.properties" >"$T/cm.log" 2>&1 &
CMPID=$!
cat >"$T/stop.sh" <<STOP
#!/bin/sh
# Stops the oxbow demo by PID: the CM (supervisor.stop.stores=true: it stops
# its stores cleanly first), then
# MariaDB; removes $T unless called with "keep".
kill $CMPID 2>/dev/null || true
i=0; while kill -0 $CMPID 2>/dev/null && [ \$i -lt 200 ]; do sleep 0.1; i=\$((i+1)); done
kill $MPID 2>/dev/null || true
i=0; while kill -0 $MPID 2>/dev/null && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done
[ "\${1:-}" = keep ] || rm -rf "$T"
echo "oxbow demo stopped"
STOP
chmod 700 "$T/stop.sh"
DRC="$T/cm/supervisor/package/config/drc.properties"
i=0
until [ -f "$DRC" ] && curl -sf "http://127.0.0.1:$CMPORT/host/list" | grep -q '"live":true'; do
    i=$((i + 1)); [ $i -lt 200 ] || { cat "$T/cm.log" >&2; exit 1; }
    sleep 0.1
done
echo "CM pid $CMPID; drc.properties: $DRC"
# The seed's line, pointed at this supervisor's drc.properties:
CM_URL=`awk -F= '$0 ~/cm\.url/ {print $2}' "$DRC" | sed 's/^[ \t]*//;s/[ \t]*$//'`
echo "CM_URL=$CM_URL"

say "3. create a topic and a store through the API"
umask 077
printf 'topic=shop_orders&dbType=mysql&host=127.0.0.1&port=%s&username=ox&password=%s&whiteList=shop.*' \
    "$MPORT" "$PW" >"$T/topic.body"
echo "\$ curl \"\${CM_URL}/topic/create\" -d @topic.body"
curl -s "${CM_URL}/topic/create" -d @"$T/topic.body"; echo
echo "\$ curl \"\${CM_URL}/crawler/start\" -d \"topic=shop_orders&checkpoint=&role=master&type=mysql2store&userData=demo\""
START=$(curl -s "${CM_URL}/crawler/start" -d "topic=shop_orders&checkpoint=&role=master&type=mysql2store&userData=demo")
echo "$START"
STORE=$(printf '%s' "$START" | $PY -c 'import json,sys; print(json.load(sys.stdin)["crawler"]["name"])')
SPORT=$(printf '%s' "$START" | $PY -c 'import json,sys; print(json.load(sys.stdin)["crawler"]["port"])')

say "4. write sample rows"
mariadb --no-defaults -S "$T/mariadb.sock" -uroot shop <<'SQL'
INSERT INTO orders VALUES (1, 'apple', 3), (2, 'pear', 5), (3, 'plum', 7);
UPDATE orders SET qty = qty + 1 WHERE id = 2;
DELETE FROM orders WHERE id = 3;
SQL
echo "3 inserts, 1 update, 1 delete in shop.orders"

say "5. crawler/detail"
i=0
until curl -s "${CM_URL}/crawler/detail?filters=&crawler=${STORE}" |
      $PY -c 'import json,sys; c=json.load(sys.stdin)["crawler"]; sys.exit(0 if c["status"]==0 and c["checkpoints"] and len(c["checkpoints"][0])==2 and c["checkpoints"][0][1]["msgId"]>=5 else 1)'; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "demo: store did not capture the rows" >&2; exit 1; }
    sleep 0.1
done
echo "\$ curl \"\${CM_URL}/crawler/detail?filters=&crawler=\${STORE}\""
curl -s "${CM_URL}/crawler/detail?filters=&crawler=${STORE}" | $PY -m json.tool

say "6. a few change records (oxbow tail)"
echo "\$ oxbow tail --store 127.0.0.1:$SPORT --earliest --filter 'shop.*' --limit 5"
"$OXBOW" tail --store "127.0.0.1:$SPORT" --earliest --filter 'shop.*' --limit 5 --idle-exit 5 |
    cut -c1-200

# A PostgreSQL store next to the MySQL one (skipped without PostgreSQL 15
# or when not root, or with OX_DEMO_PG=0): same CM, same API, same records.
PGBIN=/usr/lib/postgresql/15/bin
if [ "${OX_DEMO_PG:-1}" != 0 ] && [ -x "$PGBIN/initdb" ] && [ "$(id -u)" = 0 ] &&
   id postgres >/dev/null 2>&1; then
    PGPORT=$(port 0)
    PGT=$(mktemp -d /tmp/oxbow-demo-pg.XXXXXX)
    chmod 700 "$PGT"
    chown postgres "$PGT"
    say "6b. a PostgreSQL 15 store next to it (wal_level=logical, 127.0.0.1:$PGPORT, $PGT)"
    runuser -u postgres -- "$PGBIN/initdb" -D "$PGT/data" -A trust -E UTF8 --locale=C.UTF-8 \
        >"$T/pg-initdb.log" 2>&1
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGT/data" -l "$PGT/log" -w -o \
        "-c wal_level=logical -c port=$PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PGT" \
        start >/dev/null
    PGPID=$(head -1 "$PGT/data/postmaster.pid")
    cat >>"$T/stop.sh" <<STOP
kill -INT $PGPID 2>/dev/null || true
i=0; while kill -0 $PGPID 2>/dev/null && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done
[ "\${1:-}" = keep ] || rm -rf "$PGT"
STOP
    PSQL="$PGBIN/psql -h 127.0.0.1 -p $PGPORT -U postgres -q"
    $PSQL -c "CREATE DATABASE shop" postgres
    $PSQL -c "CREATE TABLE orders (id int PRIMARY KEY, item text, qty int)" shop
    echo "\$ curl \"\${CM_URL}/topic/create\" -d \"topic=pg_orders&dbType=postgresql&database=shop&host=127.0.0.1&port=$PGPORT&username=postgres\""
    curl -s "${CM_URL}/topic/create" -d "topic=pg_orders&dbType=postgresql&database=shop&host=127.0.0.1&port=$PGPORT&username=postgres&password="; echo
    PSTART=$(curl -s "${CM_URL}/crawler/start" -d "topic=pg_orders&checkpoint=&role=master&type=mysql2store&userData=demo-pg")
    echo "$PSTART"
    PSTORE=$(printf '%s' "$PSTART" | $PY -c 'import json,sys; print(json.load(sys.stdin)["crawler"]["name"])')
    PSPORT=$(printf '%s' "$PSTART" | $PY -c 'import json,sys; print(json.load(sys.stdin)["crawler"]["port"])')
    i=0
    until curl -s "${CM_URL}/crawler/detail?filters=&crawler=${PSTORE}" |
          $PY -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["crawler"]["status"]==0 else 1)'; do
        i=$((i + 1)); [ $i -lt 300 ] || { echo "demo: PostgreSQL store did not start" >&2; exit 1; }
        sleep 0.1
    done
    $PSQL shop <<'SQL'
INSERT INTO orders VALUES (1, 'apple', 3), (2, 'pear', 5), (3, 'plum', 7);
UPDATE orders SET qty = qty + 1 WHERE id = 2;
DELETE FROM orders WHERE id = 3;
SQL
    echo "3 inserts, 1 update, 1 delete in shop.public.orders"
    echo "\$ oxbow tail --store 127.0.0.1:$PSPORT --earliest --limit 5"
    "$OXBOW" tail --store "127.0.0.1:$PSPORT" --earliest --limit 5 --idle-exit 5 | cut -c1-200
    echo "PostgreSQL store: $PSTORE (port $PSPORT); crawler/destroy drops its replication slot"
fi

trap - EXIT
say "7. how to continue"
cat <<EOF2
The system keeps running (CM pid $CMPID, store port $SPORT, MariaDB 127.0.0.1:$MPORT).
The supervisor wrote $DRC;
it is the seed's /home/ds/supervisor/package/config/drc.properties (set
supervisor.dir=/home/ds/supervisor to get that exact path). The seed's commands:

CM_URL=\`awk -F= '\$0 ~/cm\\.url/ {print \$2}' $DRC | sed 's/^[ \\t]*//;s/[ \\t]*\$//'\`
STORE=$STORE

curl "\${CM_URL}/crawler/clear" -d "crawler=\${STORE}"
curl "\${CM_URL}/crawler/restore" -d "crawler=\${STORE}"
curl "\${CM_URL}/crawler/detail?filters=&crawler=\${STORE}"
curl "\${CM_URL}/crawler/destroy" -d "crawler=\${STORE}"

More rows:   mariadb --no-defaults -S $T/mariadb.sock -uroot shop -e "INSERT INTO orders VALUES (4,'fig',1)"
Follow them: $OXBOW tail --store 127.0.0.1:$SPORT --filter 'shop.*'
Listings:    curl "\${CM_URL}/crawler/list"; curl "\${CM_URL}/host/list"
Logs:        $T/cm.log, $T/cm/supervisor/stores/<store>/data/store.log

To stop everything (by PID) and remove $T:
  sh $T/stop.sh
EOF2
