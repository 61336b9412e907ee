#!/bin/bash
# Bad input and a bad environment: the helper answers every line, stays up,
# and recovers by itself. Runs the helper as Squid's user, directly and
# under a real Squid.
. "$(dirname "$0")/lib.sh"

write_conf
CUTTLE init > /dev/null || bail "cuttle init failed"
add_user alice 'pw' || bail "user add failed"
DB=$T/store/cuttle.db
REPLY_RE='^([0-9]+ )?(OK|ERR|BH)( .*)?$'

# A helper session as a coprocess: ask LINE sets $R to the reply.
start_helper() {
	coproc H { runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" --config "$T/cuttle.conf" "$@" 2>>"$T/log/helper.err"; }
}
ask() {
	R=
	printf '%s\n' "$1" >&"${H[1]}"
	IFS= read -r -t "${2:-10}" R <&"${H[0]}"
}
stop_helper() {
	exec {H[1]}>&-
	wait "$H_PID" 2>/dev/null
}

# EOF on stdin: exit 0 at once.
timeout 5 runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" --config "$T/cuttle.conf" < /dev/null
is "$?" 0 "EOF on stdin: exit status 0 (within 5s)"

# A person asking for help gets it (Squid never passes --help).
out=$("$T/bin/basic_cuttle_auth" --help < /dev/null)
is "$?" 0 "--help: exit 0"
case $out in "usage: basic_cuttle_auth "*) ok "--help prints the usage" true ;;
*) ok "--help prints the usage (got: $out)" false ;; esac

# Every line gets exactly one reply, and stdout holds nothing else.
{
	printf 'alice pw\n\nalice\n%s\n' "$(head -c 20000 /dev/zero | tr '\0' 'x')"
	printf 'alice p\0w\n1 2 3 4 5 6\n%%%%%% %%\n\t\t\n7 alice pw\nalice pw'
} > "$T/mixed.in"
helper_as_proxy < "$T/mixed.in" > "$T/mixed.out" 2> "$T/mixed.err"
is "$(wc -l < "$T/mixed.out")" 10 "10 request lines (one without LF): 10 replies"
ok "every stdout line is a reply" sh -c "! grep -Evq '$REPLY_RE' '$T/mixed.out'"
is "$(sed -n 1p "$T/mixed.out")" "OK reason_=ok" "first reply in order"
is "$(sed -n 9p "$T/mixed.out")" "7 OK reason_=ok" "channel-ID reply in order after bad lines"
is "$(sed -n 10p "$T/mixed.out")" "OK reason_=ok" "last line without LF answered"

# Missing store: BH naming the fix; the helper recovers when it appears.
mv "$DB" "$DB.away"
start_helper
ask "alice pw"
case $R in
"BH reason_=backend_down "*"no such store"*"cuttle init"*) ok "missing store: BH backend_down naming cuttle init" true ;;
*) ok "missing store: BH backend_down naming cuttle init (got: $R)" false ;;
esac
mv "$DB.away" "$DB"
ask "alice pw"
is "$R" "OK reason_=ok" "store back: answered without a restart"

# Corrupt store: BH backend_error; recovers once replaced by a good one.
cp "$DB" "$T/good.db"
mv "$DB" "$DB.good"
head -c 8192 /dev/urandom > "$DB"
chgrp proxy "$DB"
chmod 660 "$DB"
sleep 1.2
ask "alice pw"
case $R in
"BH reason_=backend_error "*) ok "corrupt store: BH backend_error" true ;;
*) ok "corrupt store: BH backend_error (got: $R)" false ;;
esac
mv "$DB.good" "$DB"
sleep 1.2
ask "alice pw"
is "$R" "OK reason_=ok" "good store back: answered"

# An open write transaction (the CLI's BEGIN IMMEDIATE) does not stop answers.
(printf 'BEGIN IMMEDIATE;\nUPDATE settings SET value = value;\n'; sleep 8; printf 'COMMIT;\n') |
	sqlite3 "$DB" &
LOCKER=$!
sleep 1
start=$(date +%s)
ask "alice pw" 6
end=$(date +%s)
is "$R" "OK reason_=ok" "answer while a write transaction is open"
ok "answered before the transaction ended ($((end - start))s < 6s)" test $((end - start)) -lt 6
kill "$LOCKER" 2>/dev/null
wait "$LOCKER" 2>/dev/null
stop_helper

# Read-only store files: logins still work, rehash is skipped.
chmod 440 "$DB"
helper_as_proxy <<< "alice pw" > "$T/ro.out" 2>&1
is "$(cat "$T/ro.out")" "OK reason_=ok" "read-only store: still answers"
chmod 660 "$DB"
# A helper that could only read may leave read-only WAL files behind;
# `cuttle init` repairs them.
CUTTLE init > /dev/null
bad=$(find "$T/store" -type f ! -perm -g=w | tr '\n' ' ')
is "$bad" "" "cuttle init repairs the modes of the store's files"

# A store other users can read is refused with the fix named.
chmod 664 "$DB"
helper_as_proxy <<< "alice pw" > "$T/mode.out" 2>&1
case $(cat "$T/mode.out") in
"BH reason_=backend_error"*"chmod o-rwx"*) ok "world-readable store: BH naming chmod o-rwx" true ;;
*) ok "world-readable store: BH naming chmod o-rwx (got: $(cat "$T/mode.out"))" false ;;
esac
chmod 660 "$DB"

# Bad config file: BH naming file:line.
printf '[store]\npath = %s\nldap_ur = x\n' "$DB" > "$T/bad.conf"
chmod 644 "$T/bad.conf"
runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" --config "$T/bad.conf" \
	<<< "3 alice pw" > "$T/badconf.out" 2> "$T/badconf.err"
is "$(cat "$T/badconf.out")" "3 BH reason_=backend_error config error: $T/bad.conf:3: unknown key 'ldap_ur' in [store] (see cuttle.conf(5))" \
	"bad config: BH naming file:line"
ok "bad config logged once on stderr" test "$(grep -c "unknown key 'ldap_ur'" "$T/badconf.err")" -eq 1

# Rehash on login, written by the helper as proxy (WAL files included),
# then the admin (root) and the helper keep sharing the store.
hash_of() { sqlite3 "$DB" "SELECT hash FROM users WHERE name = '$1'"; }
write_conf "opslimit = 2"
sed -i '/^opslimit = 1$/d' "$T/cuttle.conf"
helper_as_proxy <<< "alice pw" > "$T/rehash.out" 2>&1
is "$(cat "$T/rehash.out")" "OK reason_=ok" "login with old hash parameters"
case $(hash_of alice) in
'$argon2id$v=19$m=8,t=2,'*) ok "helper (as proxy) re-hashed with the configured opslimit" true ;;
*) ok "helper (as proxy) re-hashed with the configured opslimit (got $(hash_of alice | cut -c1-30))" false ;;
esac
printf 'newpw\n' | CUTTLE user passwd alice --password-stdin 2>/dev/null
is "$?" 0 "root CLI writes after the helper wrote"
helper_as_proxy <<< "alice newpw" > "$T/after.out" 2>&1
is "$(cat "$T/after.out")" "OK reason_=ok" "helper reads what root wrote"
bad=$(find "$T/store" \( -perm -o=r -o -perm -o=w -o ! -group proxy \) | tr '\n' ' ')
is "$bad" "" "no store file is reachable by others or outside group proxy"

# Under Squid, a helper given a bad option stays up and answers BH.
write_conf
origin_start
squid_start "--bogus-option"
is "$(status 'alice:newpw')" 407 "bad helper option: request refused, not crashed"
pids1=$(pgrep -d, -f "$T/bin/basic_cuttle_auth" | sort)
for i in 1 2 3 4 5; do status 'alice:newpw' > /dev/null; done
pids2=$(pgrep -d, -f "$T/bin/basic_cuttle_auth" | sort)
is "$pids2" "$pids1" "the same helper processes keep answering (no restarts)"
ok "squid still running" kill -0 "$SQUID_PID"
ok "cache.log names the bad option" grep -q "unknown option '--bogus-option'" "$T/log/cache.log"
ok "no 'crashing too rapidly'" sh -c "! grep -q 'too rapidly' '$T/log/cache.log'"

done_testing
