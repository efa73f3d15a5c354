#!/bin/sh
# deps.sh - installs the Debian 12 packages oxbow needs to build, test, bench
# and demo. Idempotent: it checks each package and installs only what is
# missing, saying what it installs. Needs root (or sudo) only when something
# is missing.
set -eu

PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
libmariadb-dev mariadb-server mariadb-client
libpq-dev postgresql-15 postgresql-client-15
libmicrohttpd-dev nettle-dev libjansson-dev libsqlite3-dev libzstd-dev zstd zlib1g-dev libcmocka-dev
libcurl4-openssl-dev curl wrk hyperfine nodejs npm
python3 python3-pytest python3-pymysql python3-psycopg2 openssl
mariadb-test-data sqlite3 iproute2 e2fsprogs
chromium prometheus"

# The console's browser test drives Debian's chromium with puppeteer-core
# from tests/e2e/console/package-lock.json (no browser download).
console_npm() {
    dir=$(dirname "$0")/../tests/e2e/console
    if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules/puppeteer-core" ]; then
        echo "deps: npm ci in tests/e2e/console"
        (cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund >/dev/null)
    fi
}

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
# nodejs/npm may come from elsewhere on some machines; a working node is enough.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    missing=$(echo "$missing" | tr ' ' '\n' | grep -v -x -e nodejs -e npm | tr '\n' ' ')
fi
missing=$(echo "$missing" | xargs echo)
if [ -z "$missing" ]; then
    echo "deps: all packages present"
    console_npm
    exit 0
fi
echo "deps: installing:$missing" | fold -s -w 78
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Keep the packaged mariadb/postgresql services from starting: tests run
# private instances on their own ports.
# The file blocks every service on the machine, so it lives only while apt
# runs: removed on any exit (also a failed install or ^C), and only if this
# script created it.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
    trap 'exit 130' INT TERM
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
console_npm
echo "deps: done"
