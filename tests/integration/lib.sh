# Shared by the integration tests: TAP-style assertions, a test directory
# Squid's user can reach, our binaries copied there, a store, an origin
# server and a real Squid on loopback. Sourced; needs $BUILD (the build
# directory holding the binaries) and runs as root.

: "${BUILD:?BUILD must name the build directory}"
SQUID_USER=proxy
n=0
failed=0

ok() {
	# ok DESCRIPTION COMMAND...: passes when COMMAND succeeds.
	desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		failed=$((failed + 1))
		echo "not ok $n - $desc"
	fi
}

is() {
	# is GOT WANT DESCRIPTION
	n=$((n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $n - $3"
	else
		failed=$((failed + 1))
		echo "not ok $n - $3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
	fi
}

done_testing() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}

bail() {
	echo "Bail out! $*"
	exit 1
}

# A directory the proxy user can traverse (not under /root, not 0700).
T=$(mktemp -d /var/tmp/cuttle-it.XXXXXX) || bail "mktemp failed"
chmod 755 "$T"
mkdir -p "$T/bin" "$T/log" "$T/run"
chown "$SQUID_USER" "$T/log" "$T/run"
cp "$BUILD/basic_cuttle_auth" "$BUILD/ext_cuttle_acl" "$BUILD/log_cuttle_daemon" "$BUILD/cuttle" \
	"$BUILD/tests/origin-httpd" \
	"$BUILD/tests/ldap-groups" "$BUILD/tests/dgram-sink" "$T/bin/" ||
	bail "binaries missing in $BUILD (build first)"
chmod 755 "$T/bin"/*

SQUID_PID=
ORIGIN_PID=
cleanup() {
	squid_stop
	[ -n "$ORIGIN_PID" ] && kill "$ORIGIN_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# chain_exit CMD: at exit, run CMD first, then whatever EXIT trap is set
# (in the end lib.sh's cleanup, which removes $T).
chain_exit() {
	local prev
	prev=$(trap -p EXIT)
	prev=${prev#trap -- }
	prev=${prev% EXIT}
	eval "prev=${prev:-cleanup}"
	# shellcheck disable=SC2064 # expand the previous command now
	trap "$1; $prev" EXIT
}

# write_conf [EXTRA LINES]: cuttle.conf with fast hashes for tests.
write_conf() {
	cat > "$T/cuttle.conf" <<CONF
[store]
path = $T/store/cuttle.db
[hash]
opslimit = 1
memlimit = 8K
$*
CONF
	chmod 644 "$T/cuttle.conf"
}

CUTTLE() { "$T/bin/cuttle" --config "$T/cuttle.conf" "$@"; }

# add_user NAME PASSWORD [OPTIONS]
add_user() {
	name=$1 pw=$2
	shift 2
	printf '%s\n' "$pw" | CUTTLE user add "$name" --password-stdin "$@" 2>/dev/null
}

free_port() {
	# A loopback TCP port nobody listens on, from a per-run range.
	p=${1:-20000}
	while ss -Htln "sport = :$p" | grep -q .; do p=$((p + 1)); done
	echo "$p"
}

wait_port() {
	# wait_port PORT [SECONDS]: until something listens on 127.0.0.1:PORT.
	i=0
	while [ $i -lt $((${2:-20} * 10)) ]; do
		ss -Htln "sport = :$1" | grep -q . && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

origin_start() {
	ORIGIN_PORT=$(free_port 21000)
	"$T/bin/origin-httpd" "$ORIGIN_PORT" &
	ORIGIN_PID=$!
	wait_port "$ORIGIN_PORT" 5 || bail "origin server did not start"
	ORIGIN_URL="http://127.0.0.1:$ORIGIN_PORT/"
}

# squid_start "HELPER ARGS" [EXTRA squid.conf LINES] [ACCESS RULES]
# The access rules default to "allow authed users, deny the rest".
squid_start() {
	SQUID_PORT=$(free_port 23000)
	SQUID_PORT6=$(free_port $((SQUID_PORT + 1)))
	cat > "$T/squid.conf" <<CONF
http_port 127.0.0.1:$SQUID_PORT
http_port [::1]:$SQUID_PORT6
visible_hostname cuttle-test
pid_filename $T/run/squid.pid
cache_log $T/log/cache.log
access_log stdio:$T/log/access.log
cache_store_log none
coredump_dir $T/run
cache deny all
cache_mem 8 MB
pinger_enable off
shutdown_lifetime 1 seconds
auth_param basic program $T/bin/basic_cuttle_auth --config $T/cuttle.conf $1
auth_param basic children 3 startup=1 idle=1
auth_param basic credentialsttl 2 seconds
auth_param basic realm cuttle-test
acl authed proxy_auth REQUIRED
${2:-}
${3:-http_access allow authed
http_access deny all}
CONF
	squid -k parse -f "$T/squid.conf" > "$T/log/parse.log" 2>&1 ||
		bail "squid.conf does not parse: $(tail -3 "$T/log/parse.log")"
	squid -f "$T/squid.conf" || bail "squid failed to start"
	wait_port "$SQUID_PORT" 30 || bail "squid did not listen: $(tail -5 "$T/log/cache.log")"
	SQUID_PID=$(cat "$T/run/squid.pid" 2>/dev/null)
	PROXY="http://127.0.0.1:$SQUID_PORT"
	PROXY6="http://[::1]:$SQUID_PORT6"
}

squid_stop() {
	[ -n "$SQUID_PID" ] || return 0
	squid -f "$T/squid.conf" -k shutdown 2>/dev/null
	i=0
	while kill -0 "$SQUID_PID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$SQUID_PID" 2>/dev/null
	pkill -9 -f "$T/bin/basic_cuttle_auth" 2>/dev/null
	SQUID_PID=
}

# status USER:PASSWORD [CURL OPTIONS...] → the HTTP status through the
# proxy ("-" for no credentials), e.g. status - --interface 127.0.0.2
status() {
	local cred=$1
	shift
	if [ "$cred" = "-" ]; then
		curl -s -o /dev/null -w '%{http_code}' --max-time 20 -x "$PROXY" "$@" "$ORIGIN_URL"
	else
		curl -s -o /dev/null -w '%{http_code}' --max-time 20 -x "$PROXY" \
			--proxy-user "$cred" "$@" "$ORIGIN_URL"
	fi
}

# helper_as_proxy ARGS...: run the helper as Squid's user, stdin to stdout.
helper_as_proxy() {
	runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" --config "$T/cuttle.conf" "$@"
}
