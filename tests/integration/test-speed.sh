#!/bin/bash
# Speed features kept correct: worker threads with out-of-order replies
# under channel IDs, in-order replies without them, the credential cache
# (invalidated within a second by every kind of admin change, never by the
# helper's own writes, stale only for accepted verdicts during an outage),
# deadlines held when a library call blocks, a bounded queue, counters on
# SIGUSR1 and in `cuttle status`, a quick start and a small idle helper,
# and ext_cuttle_acl's group mode under concurrency. Timings are asserted
# only as deadlines against configured values, with generous margins.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slapd.sh"

G='Invalid username or password'
NOLOCK='[lockout]
enabled = no'

# Our own background process (the DNS sink), stopped before lib.sh's and
# slapd.sh's cleanup removes $T; helpers end by themselves at EOF.
SINK_PID=
speed_cleanup() {
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
	return 0
}
chain_exit speed_cleanup

# The main store, with fast hashes ($T/cuttle.conf) and no automatic
# lockout (many wrong passwords are sent on purpose).
write_conf "$NOLOCK"
CUTTLE init > /dev/null || bail "cuttle init failed"
DB=$T/store/cuttle.db

# mkconf NAME [LINES...]: $T/NAME.conf on the main store, lockout off,
# fast hashes unless the lines say otherwise (a [hash] given replaces it).
mkconf() {
	local f=$T/$1.conf
	shift
	{
		printf '[store]\npath = %s\n' "$DB"
		case "$*" in *'[hash]'*) ;; *) printf '[hash]\nopslimit = 1\nmemlimit = 8K\n' ;; esac
		printf '%s\n' "$NOLOCK"
		printf '%s\n' "$@"
	} > "$f"
	chmod 644 "$f"
	echo "$f"
}
# Real (default, interactive) hash limits: about 50 ms per verification.
REAL=$(mkconf real '[hash]' '[auth]' 'workers = 2')
RCUTTLE() { "$T/bin/cuttle" --config "$REAL" "$@"; }
# add_slow NAME PASSWORD: a user whose hash has the interactive limits.
add_slow() { printf '%s\n' "$2" | RCUTTLE user add "$1" --password-stdin 2>/dev/null; }

# A helper session as a coprocess (one at a time): start_helper CONF
# [HELPER ARGS...]; its stderr goes to $HERR, its pid (the helper's own,
# not runuser's) is $HPID.
start_helper() {
	local conf=$1 i=0
	shift
	HERR=$T/log/$(basename "$conf" .conf).err
	coproc H { runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" --config "$conf" "$@" 2>>"$HERR"; }
	HPID=
	while [ -z "$HPID" ] && [ $i -lt 50 ]; do
		HPID=$(pgrep -f "^$T/bin/basic_cuttle_auth --config $conf( |\$)" | head -1)
		[ -n "$HPID" ] || sleep 0.05
		i=$((i + 1))
	done
	[ -n "$HPID" ] || bail "helper with $conf did not start: $(tail -3 "$HERR")"
}
# send TEXT: write TEXT (printf format) to the helper in one write.
# shellcheck disable=SC2059 # the format is the request text
send() { printf "$1" >&"${H[1]}"; }
# reply [SECONDS]: read one reply line into R (empty on timeout).
reply() { R=; IFS= read -r -t "${1:-10}" R <&"${H[0]}"; }
# ask LINE [SECONDS]: send one request with the next channel ID; R is the
# reply without its ID, RID the ID it carried, MS the time it took.
CID=0
ask() {
	local t0
	CID=$((CID + 1))
	t0=$(date +%s%N)
	printf '%s %s\n' "$CID" "$1" >&"${H[1]}"
	reply "${2:-10}"
	MS=$((($(date +%s%N) - t0) / 1000000))
	RID=${R%% *}
	if [ "$RID" = "$CID" ]; then R=${R#* }; else R="(reply to channel '$RID', not $CID: $R)"; fi
}
stop_helper() {
	exec {H[1]}>&-
	# The helper exits once its input is closed.
	local i=0
	while [ -n "$HPID" ] && kill -0 "$HPID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	wait "$H_PID" 2>/dev/null
}
# counter KEY: the helper's counter KEY, from a fresh SIGUSR1 dump (-999: none).
counter() {
	local before i=0 line
	before=$(grep -c 'counters: ' "$HERR")
	kill -USR1 "$HPID"
	while [ "$(grep -c 'counters: ' "$HERR")" -le "$before" ] && [ $i -lt 40 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	line=$(grep 'counters: ' "$HERR" | tail -1)
	[ "$(grep -c 'counters: ' "$HERR")" -gt "$before" ] || line=
	line=$(grep -o " $1=[^ ]*" <<< " ${line#*counters: }" | head -1 | cut -d= -f2)
	# No dump (or no such counter): a number no assertion expects.
	echo "${line:--999}"
}
# ids_of FILE: the channel IDs of the replies in FILE, sorted.
ids_of() { cut -d' ' -f1 "$1" | sort; }

###########################################################################
# 1. Concurrency: 200 requests over 10 users with shuffled channel IDs, all
#    written at once to two workers; each answered once, with its answer.
for i in 0 1 2 3 4 5 6 7 8 9; do add_user "u$i" "pw u$i" || bail "user add failed"; done
CONC=$(mkconf conc '[auth]' 'workers = 2')
mapfile -t IDS < <(shuf -i 1000-9999 -n 200)
: > "$T/conc.in"
: > "$T/conc.want"
for i in $(seq 0 199); do
	id=${IDS[$i]}
	u=u$((i % 10))
	case $((i % 10)) in
	0 | 1 | 2 | 3) line="$u pw%20$u" want="OK reason_=ok" ;;
	4 | 5) line="$u wrong$((i % 3))" want="ERR reason_=bad_password $G" ;;
	6) line="ghost$((i % 4)) pw%20$u" want="ERR reason_=unknown_user $G" ;;
	7) line="$u pw%20u$(((i + 1) % 10))" want="ERR reason_=bad_password $G" ;;
	8) line="U$((i % 10)) pw%20$u" want="OK reason_=ok" ;; # names are folded
	9) line="$u pw%20$u" want="OK reason_=ok" ;;
	esac
	case $i in
	19) line="$u" want="BH reason_=bad_request bad request: missing password field" ;;
	59) line="u%00x pw" want="BH reason_=bad_request bad request: NUL byte in user name or password" ;;
	99) line="$u $(head -c 9000 /dev/zero | tr '\0' x)" want="BH reason_=bad_request bad request: request line longer than 8192 bytes" ;;
	139) line="" want="BH reason_=bad_request bad request: missing user and password fields" ;;
	esac
	printf '%s %s\n' "$id" "$line" >> "$T/conc.in"
	printf '%s %s\n' "$id" "$want" >> "$T/conc.want"
done
shuf "$T/conc.in" -o "$T/conc.in"
runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" --config "$CONC" --channel-id yes \
	< "$T/conc.in" > "$T/conc.out" 2> "$T/log/conc.err"
is "$(wc -l < "$T/conc.out")" 200 "concurrency: 200 requests, 200 reply lines (nothing else on stdout)"
is "$(ids_of "$T/conc.out" | uniq -d | wc -l)" 0 "concurrency: no channel ID answered twice"
ok "concurrency: every channel ID answered" cmp -s <(ids_of "$T/conc.out") <(ids_of "$T/conc.want")
sort "$T/conc.out" > "$T/conc.out.s"
sort "$T/conc.want" > "$T/conc.want.s"
wrong=$(comm -3 "$T/conc.out.s" "$T/conc.want.s" | head -4 | tr '\t\n' ' |')
is "$wrong" "" "concurrency: every reply is the right one for its request (OK, bad_password, unknown_user, bad_request)"

###########################################################################
# 2. Out of order: a cached answer overtakes a slow Argon2 check.
add_user fasta 'pw a' || bail "user add failed"
add_slow slow1 'slow pw' || bail "user add failed"
add_slow slow2 'pw2' || bail "user add failed"
start_helper "$REAL" --channel-id yes
ask 'fasta pw%20a'
is "$R" "OK reason_=ok" "out of order: user fasta answered (now cached)"
send '101 slow1 slow%%20pw\n102 fasta pw%%20a\n'
reply; r1=$R
reply; r2=$R
is "$r1|$r2" "102 OK reason_=ok|101 OK reason_=ok" \
	"out of order: the cached answer (102) comes before the slow check sent first (101)"
# The same credentials six times at once: one check, five wait for it.
c0=$(counter cache_coalesced)
send '111 slow2 pw2\n112 slow2 pw2\n113 slow2 pw2\n114 slow2 pw2\n115 slow2 pw2\n116 slow2 pw2\n'
got=
for i in 1 2 3 4 5 6; do reply; got="$got$R|"; done
is "$(tr '|' '\n' <<< "$got" | grep . | sort | tr '\n' '|')" \
	"111 OK reason_=ok|112 OK reason_=ok|113 OK reason_=ok|114 OK reason_=ok|115 OK reason_=ok|116 OK reason_=ok|" \
	"coalescing: six identical requests in flight, each answered once"
is "$(($(counter cache_coalesced) - c0))" 5 "coalescing: five of them waited for the first one's check"
stop_helper

###########################################################################
# 3. In order without channel IDs: cached and uncached answers in input order.
CUTTLE group add ga > /dev/null 2>&1
CUTTLE group add gb > /dev/null 2>&1
CUTTLE group add slowg > /dev/null 2>&1
add_user gusa 'pw ga' --group ga || bail "user add failed"
add_user gusb 'pw gb' --group gb || bail "user add failed"
CUTTLE user groups slow1 --add slowg > /dev/null 2>&1
start_helper "$REAL" --channel-id no
send 'gusa pw%%20ga\n'
reply
is "$R" "OK reason_=ok group=ga" "in order: gusa answered (now cached)"
send 'slow1 slow%%20pw\ngusa pw%%20ga\nnobody pw\ngusb pw%%20gb\ngusa wrong\ngusa\ngusa pw%%20ga\n'
got=
for i in 1 2 3 4 5 6 7; do
	reply
	got="$got$R|"
done
is "$got" "OK reason_=ok group=slowg|OK reason_=ok group=ga|ERR reason_=unknown_user $G|OK reason_=ok group=gb|ERR reason_=bad_password $G|BH reason_=bad_request bad request: missing password field|OK reason_=ok group=ga|" \
	"in order: without channel IDs, slow, cached, refused and malformed requests answered in input order"
stop_helper

###########################################################################
# 4. Every kind of admin change reaches a running helper's cache within a
#    second (checked at 1.5 s), with the client address as a key extra.
for u in ipw ilock idis idel iexp igrp inet; do add_user "$u" "pw $u" || bail "user add failed"; done
CUTTLE group add ig > /dev/null 2>&1
INV=$(mkconf inval)
start_helper "$INV" --channel-id yes --key-extras '%>a'
# change WHAT LINE BEFORE AFTER COMMAND...: LINE answered BEFORE, then the
# same from the cache; COMMAND; then LINE answered AFTER within 1.5 s.
change() {
	local what=$1 line=$2 before=$3 after=$4 first h0 h1 t0 waited=0
	shift 4
	ask "$line"
	first=$R
	h0=$(counter cache_hits)
	ask "$line"
	h1=$(counter cache_hits)
	is "$first|$R|hits+$((h1 - h0))" "$before|$before|hits+1" "$what: '$before', then the same from the cache"
	"$@" > /dev/null 2>&1 || echo "# command failed: $*"
	t0=$(date +%s%N)
	while :; do
		ask "$line"
		waited=$((($(date +%s%N) - t0) / 1000000))
		[ "$R" = "$after" ] && break
		[ "$waited" -ge 1500 ] && break
		sleep 0.1
	done
	is "$R" "$after" "$what: '$after' within 1.5 s of the change (${waited} ms)"
}
change "password change" 'ipw pw%20ipw 127.0.0.1' "OK reason_=ok" "ERR reason_=bad_password $G" \
	sh -c "printf 'new ipw\n' | '$T/bin/cuttle' --config '$T/cuttle.conf' user passwd ipw --password-stdin"
ask 'ipw new%20ipw 127.0.0.1'
is "$R" "OK reason_=ok" "password change: the new password is accepted"
change "lock" 'ilock pw%20ilock 127.0.0.1' "OK reason_=ok" "ERR reason_=locked Account locked" \
	CUTTLE user lock ilock
change "disable" 'idis pw%20idis 127.0.0.1' "OK reason_=ok" "ERR reason_=disabled Account disabled" \
	CUTTLE user disable idis
change "delete" 'idel pw%20idel 127.0.0.1' "OK reason_=ok" "ERR reason_=unknown_user $G" \
	CUTTLE user del idel
change "expiry in the past" 'iexp pw%20iexp 127.0.0.1' "OK reason_=ok" "ERR reason_=expired Account expired" \
	CUTTLE user set iexp --expires 2000-01-01
change "group membership" 'igrp pw%20igrp 127.0.0.1' "OK reason_=ok" "OK reason_=ok group=ig" \
	CUTTLE user groups igrp --add ig
change "group deleted" 'igrp pw%20igrp 127.0.0.1' "OK reason_=ok group=ig" "OK reason_=ok" \
	CUTTLE group del ig
change "network binding" 'inet pw%20inet 127.0.0.1' "OK reason_=ok" \
	"ERR reason_=ip_not_allowed Login not allowed from this address" CUTTLE user net add inet 10.9.0.0/16
change "a cached unknown_user, then the user is added" 'inew pw%20inew 127.0.0.1' \
	"ERR reason_=unknown_user $G" "OK reason_=ok" add_user inew 'pw inew'
# Deleted and added again with another password, with no request between
# the two: the old password must not come back from the cache.
add_user ire 'old ire' || bail "user add failed"
change "deleted and added again" 'ire old%20ire 127.0.0.1' "OK reason_=ok" "ERR reason_=bad_password $G" \
	sh -c "'$T/bin/cuttle' --config '$T/cuttle.conf' user del ire &&
	    printf 'new ire\n' | '$T/bin/cuttle' --config '$T/cuttle.conf' user add ire --password-stdin"
ask 'ire new%20ire 127.0.0.1'
is "$R" "OK reason_=ok" "deleted and added again: the new password is accepted"
stop_helper

###########################################################################
# 5. The helper's own writes invalidate nothing: a rehash on login (store
#    hash opslimit 1, helper configured with 2) leaves the entry valid.
add_user rh 'pw rh' || bail "user add failed"
RH=$(mkconf rehash '[hash]' 'opslimit = 2' 'memlimit = 8K')
hash_of() { sqlite3 "$DB" "SELECT hash FROM users WHERE name = '$1'"; }
start_helper "$RH" --channel-id yes
ask 'rh pw%20rh'
is "$R" "OK reason_=ok" "rehash: login with the old hash limits"
sleep 0.5 # the rehash is written, and the entry is due for a change check
case $(hash_of rh) in
'$argon2id$v=19$m=8,t=2,'*) ok "rehash: the helper re-hashed the password (opslimit 2)" true ;;
*) ok "rehash: the helper re-hashed the password (got $(hash_of rh | cut -c1-30))" false ;;
esac
h0=$(counter cache_hits)
ask 'rh pw%20rh'
h1=$(counter cache_hits)
is "$R|hits+$((h1 - h0))" "OK reason_=ok|hits+1" "rehash: the next identical request is a cache hit (the helper's write changed no serial)"
stop_helper
sleep 1.1 # audit records are written within a second
is "$(CUTTLE audit --user rh --json | jq -r '[.[] | select(.result == "ok")] | map(.flags | index("cache") != null) | sort | map(tostring) | join(",")')" \
	"false,true" "rehash: audit shows one verified login and one from the cache"

###########################################################################
# 6. Stale answers during an outage: accepted verdicts only.
slapd_start a
LDAPC=$(mkconf ldapstale '[auth]' 'backend = ldap' \
	'[cache]' 'ttl = 1s' 'negative_ttl = 1s' 'stale_max = 1h' \
	'[ldap]' "uri = $LDAP_URI_a" "base = $LDAP_BASE" "bind_dn = $LDAP_BIND_DN" \
	"bind_password_file = $LDAP_BINDPW_FILE" 'connect_timeout = 1s' 'timeout = 2s' 'deadline = 4s' 'retry = 3s')
start_helper "$LDAPC" --channel-id yes
ask 'alice alice-pw'
is "${R%% group=*}" "OK reason_=ok" "ldap outage: alice accepted while the directory is up"
ask 'bob wrong-pw'
is "$R" "ERR reason_=bad_password $G" "ldap outage: bob's wrong password refused while it is up"
slapd_stop a
sleep 1.5 # past the TTLs
ask 'alice alice-pw'
is "${R%% group=*}" "OK reason_=ok" "ldap outage: the same credentials past the TTL: accepted (stale)"
ask 'bob wrong-pw'
case $R in "BH reason_=backend_down "*) ok "ldap outage: a refusal past its TTL is BH, never a stale ERR" true ;;
*) ok "ldap outage: a refusal past its TTL is BH, never a stale ERR (got: $R)" false ;; esac
ask 'alice another-wrong-pw'
case $R in "BH reason_=backend_down "*) ok "ldap outage: alice with another password: BH" true ;;
*) ok "ldap outage: alice with another password: BH (got: $R)" false ;; esac
ask 'carol carol-pw'
case $R in "BH reason_=backend_down "*) ok "ldap outage: a user never seen: BH" true ;;
*) ok "ldap outage: a user never seen: BH (got: $R)" false ;; esac
is "$(counter cache_stale)" 1 "ldap outage: counters say one stale answer"
stop_helper
sleep 1.1
is "$(CUTTLE audit --user alice --json | jq -r '[.[] | select(.flags | index("stale")) | .result] | unique | join(",")')" "ok" \
	"ldap outage: the audit record of the stale answer is flagged stale"

# SQLite (stale_max auto: off): an expired positive entry is not served
# when the store is gone.
mkdir -p "$T/store2"
SQ=$T/sq.conf
printf '[store]\npath = %s/store2/cuttle.db\n[hash]\nopslimit = 1\nmemlimit = 8K\n%s\n[cache]\nttl = 1s\n' "$T" "$NOLOCK" > "$SQ"
chmod 644 "$SQ"
"$T/bin/cuttle" --config "$SQ" init > /dev/null || bail "cuttle init (store2) failed"
printf 'pw s1\n' | "$T/bin/cuttle" --config "$SQ" user add s1 --password-stdin 2>/dev/null || bail "user add failed"
start_helper "$SQ" --channel-id yes
ask 's1 pw%20s1'
is "$R" "OK reason_=ok" "sqlite outage: accepted while the store is there"
mv "$T/store2" "$T/store2.away"
sleep 1.5 # past the TTL and the store's once-a-second check
ask 's1 pw%20s1'
case $R in "BH reason_=backend_down "*) ok "sqlite outage: cached but expired positive is BH (stale_max off for SQLite)" true ;;
*) ok "sqlite outage: cached but expired positive is BH (got: $R)" false ;; esac
mv "$T/store2.away" "$T/store2"
sleep 1.1
ask 's1 pw%20s1'
is "$R" "OK reason_=ok" "sqlite outage: store back, accepted again"
stop_helper

###########################################################################
# 7. A deadline holds while a library call blocks: libldap resolving a
#    name against a DNS server that swallows every query.
STALL=$(mkconf stall '[auth]' 'backend = ldap' 'workers = 1' 'deadline = 2s' \
	'[ldap]' 'uri = ldap://stall.cuttle-test.example:389' "base = $LDAP_BASE" \
	'connect_timeout = 30s' 'timeout = 30s' 'deadline = 60s')
printf 'nameserver 127.0.0.99\noptions timeout:30 attempts:1\n' > "$T/resolv.conf"
chmod 644 "$T/resolv.conf"
python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.99", 53))
print("ready")
while True:
    s.recvfrom(4096)
    print("query")
' > "$T/dns-sink.out" 2> "$T/dns-sink.err" &
SINK_PID=$!
i=0
until grep -q ready "$T/dns-sink.out" 2>/dev/null || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
ok "a DNS server that never answers, on 127.0.0.99:53" grep -q ready "$T/dns-sink.out"
nsok=$(unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && cat /etc/resolv.conf' _ "$T/resolv.conf" 2>&1)
case $nsok in *127.0.0.99*) ok "unshare -m and a bind mount over /etc/resolv.conf work" true ;;
*) ok "unshare -m and a bind mount over /etc/resolv.conf work (needed for this test; got: $nsok)" false ;; esac
HERR=$T/log/stall.err
coproc H {
	unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf &&
		exec runuser -u "$2" -- env RES_OPTIONS="timeout:30 attempts:1" "$3" --config "$4" --channel-id yes' \
		_ "$T/resolv.conf" "$SQUID_USER" "$T/bin/basic_cuttle_auth" "$STALL" 2>>"$HERR"
}
HPID=
for i in $(seq 50); do
	HPID=$(pgrep -f "^$T/bin/basic_cuttle_auth --config $STALL( |\$)" | head -1)
	[ -n "$HPID" ] && break
	sleep 0.05
done
ask 'alice alice-pw' 20
case $R in "BH reason_=backend_down no decision within the deadline"*) ok "stuck name resolution: BH backend_down at the deadline" true ;;
*) ok "stuck name resolution: BH backend_down at the deadline (got: $R)" false ;; esac
ok "... within the 2 s deadline plus margin (${MS} ms < 6000)" test "$MS" -lt 6000
ok "... and the resolver really was asked (the block is in name resolution)" grep -q query "$T/dns-sink.out"
i=0
until grep -q 'a worker is stuck.*retired it' "$HERR" || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
ok "stderr says the stuck worker was retired" grep -q 'a worker is stuck.*retired it' "$HERR"
ask 'alice ' 10
is "$R" "ERR reason_=bad_password $G" "the helper still answers: an empty password refused (${MS} ms)"
ask 'bob bob-pw' 20
case $R in "BH reason_=backend_down "*) ok "a second directory request: BH too" true ;;
*) ok "a second directory request: BH too (got: $R)" false ;; esac
ok "... within the deadline plus margin (${MS} ms < 6000)" test "$MS" -lt 6000
exec {H[1]}>&-
i=0
while [ -n "$HPID" ] && kill -0 "$HPID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ok "input closed: the helper exits without waiting for the stuck call" sh -c "[ -n '$HPID' ] && ! kill -0 '$HPID' 2>/dev/null"
wait "$H_PID" 2>/dev/null
kill "$SINK_PID" 2>/dev/null
wait "$SINK_PID" 2>/dev/null
SINK_PID=

###########################################################################
# 8. Overload: one worker, room for two waiting, eight slow checks at once.
for i in 1 2 3 4 5 6 7 8; do add_slow "ov$i" "pw ov$i" || bail "user add failed"; done
OVER=$(mkconf over '[hash]' '[auth]' 'workers = 1' 'queue = 2')
for i in 1 2 3 4 5 6 7 8; do printf '%s ov%s pw%%20ov%s\n' "$i" "$i" "$i"; done > "$T/over.in"
runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" --config "$OVER" --channel-id yes \
	< "$T/over.in" > "$T/over.out" 2> "$T/log/over.err"
is "$(ids_of "$T/over.out" | tr '\n' ' ')" "1 2 3 4 5 6 7 8 " "overload: every channel ID answered exactly once"
ok "overload: at least one BH saying overloaded" grep -q '^[0-9]* BH reason_=backend_down overloaded: ' "$T/over.out"
ok "overload: the accepted ones are answered OK" grep -q '^[0-9]* OK reason_=ok$' "$T/over.out"
is "$(grep -Evc '^[0-9]+ (OK reason_=ok|BH reason_=backend_down overloaded: .*)$' "$T/over.out")" 0 \
	"overload: nothing but OK or overloaded"

###########################################################################
# 9. Counters: SIGUSR1 to stderr, and `cuttle status`.
add_user cnt 'pw cnt' || bail "user add failed"
CNT=$(mkconf counters)
start_helper "$CNT" --channel-id yes
for line in 'cnt pw%20cnt' 'cnt pw%20cnt' 'cnt pw%20cnt' 'nobody x' 'nobody x'; do ask "$line"; done
is "$(counter requests) $(counter cache_hits) $(counter cache_misses) $(counter ok) $(counter unknown_user)" "5 3 2 3 2" \
	"SIGUSR1: requests=5 cache_hits=3 cache_misses=2 ok=3 unknown_user=2"
ok "SIGUSR1: one counters line per signal on stderr, with queue and workers" \
	sh -c "grep 'counters: ' '$HERR' | tail -1 | grep -q ' queue=[0-9]* workers=[0-9]* busy=[0-9]* stuck=0 deadline_bh=0 overloaded=0'"
# Helpers record their counters a second after start (then every 10 s, so
# a skipped first write shows within 12 s).
i=0
while :; do
	st=$(CUTTLE status --json 2>&1)
	jq -e --argjson p "$HPID" 'any(.[]; .pid == $p and .counters.requests > 0)' <<< "$st" > /dev/null 2>&1 && break
	[ $i -ge 120 ] && break
	sleep 0.1
	i=$((i + 1))
done
is "$(jq -r --argjson p "$HPID" '.[] | select(.pid == $p) | "\(.program) \(.counters.requests > 0)"' <<< "$st" 2>&1)" \
	"basic_cuttle_auth true" "cuttle status --json lists the helper (pid $HPID) with its requests"
stop_helper
st=$(CUTTLE status --json 2>&1)
is "$(jq --argjson p "$HPID" '[.[] | select(.pid == $p)] | length' <<< "$st" 2>&1)" 0 \
	"cuttle status: the row is gone once the helper has exited"

# Bounded: [cache] size = 2 keeps the two most recent entries.
for i in 1 2 3; do add_user "lru$i" "pw" || bail "user add failed"; done
LRU=$(mkconf lru '[cache]' 'size = 2')
start_helper "$LRU" --channel-id yes
got=
for line in 'lru1 pw' 'lru2 pw' 'lru3 pw' 'lru3 pw' 'lru1 pw'; do ask "$line"; got="$got$R|"; done
is "$got" "OK reason_=ok|OK reason_=ok|OK reason_=ok|OK reason_=ok|OK reason_=ok|" "cache size 2: logins answered"
is "$(counter cache_entries) $(counter cache_hits) $(counter cache_misses)" "2 1 4" \
	"cache size 2: two entries kept, the oldest evicted (lru1 checked again)"
stop_helper

###########################################################################
# 10. Ready at once, small when idle.
t0=$(date +%s%N)
start_helper "$CNT" --channel-id yes
CID=0
ask 'cnt '
ms=$((($(date +%s%N) - t0) / 1000000))
is "$R" "ERR reason_=bad_password $G" "a fresh helper answers its first request"
ok "... at once (${ms} ms from start < 1000)" test "$ms" -lt 1000
sleep 1.5
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$HPID/status")
ok "an idle helper is small (VmRSS ${rss} kB < 32768)" test "${rss:-999999}" -lt 32768
stop_helper

###########################################################################
# 11. ext_cuttle_acl --mode group with channel IDs, two workers, local groups.
for g in g0 g1 g2; do CUTTLE group add "$g" > /dev/null 2>&1; done
for i in 0 1 2 3 4 5 6 7 8 9; do add_user "gm$i" x --group "g$((i % 3))" || bail "user add failed"; done
mapfile -t IDS < <(shuf -i 100-999 -n 150)
: > "$T/grp.in"
: > "$T/grp.want"
for i in $(seq 0 149); do
	u=$((i % 10)) g=$(((i / 10) % 3)) h=$(((i / 30) % 3))
	case $((i % 7)) in
	6) user=stranger$u ;;
	*) user=gm$u ;;
	esac
	want="ERR reason_=not_in_group"
	[ "$user" = "gm$u" ] && { [ $((u % 3)) = $g ] || [ $((u % 3)) = $h ]; } && want="OK reason_=ok"
	printf '%s %s g%s g%s\n' "${IDS[$i]}" "$user" "$g" "$h" >> "$T/grp.in"
	printf '%s %s\n' "${IDS[$i]}" "$want" >> "$T/grp.want"
done
shuf "$T/grp.in" -o "$T/grp.in"
GRP=$(mkconf group '[auth]' 'workers = 2')
runuser -u "$SQUID_USER" -- "$T/bin/ext_cuttle_acl" --config "$GRP" --mode group --channel-id yes \
	< "$T/grp.in" > "$T/grp.out" 2> "$T/log/grp.err"
is "$(wc -l < "$T/grp.out") $(ids_of "$T/grp.out" | uniq -d | wc -l)" "150 0" \
	"group mode: 150 requests, 150 replies, no channel ID twice"
wrong=$(comm -3 <(sort "$T/grp.out") <(sort "$T/grp.want") | head -4 | tr '\t\n' ' |')
is "$wrong" "" "group mode: every reply matched to its channel ID, with the right answer"

done_testing
