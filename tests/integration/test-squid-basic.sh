#!/bin/bash
# End to end: a real Squid on loopback authenticating through
# basic_cuttle_auth (running as proxy) on the SQLite store, driven by curl.
. "$(dirname "$0")/lib.sh"

write_conf
CUTTLE init > /dev/null || bail "cuttle init failed"
add_user alice 'correct horse' || bail "user add failed"
add_user spaced 'a b%c üñí' || bail "user add failed"
add_user Alice2 'pw2' || bail "user add failed"
add_user old 'pw' --expires 2020-01-01 || bail "user add failed"
for u in victim-del victim-lock victim-dis victim-exp; do
	add_user "$u" 'pw' || bail "user add failed"
done
origin_start
squid_start "" "logformat cuttle %un %>Hs %note{reason_}
access_log stdio:$T/log/reasons.log cuttle"

is "$(status -)" 407 "no credentials: 407"
is "$(status 'alice:correct horse')" 200 "right password: 200"
is "$(status 'alice:wrong')" 407 "wrong password: 407"
is "$(status 'nobody:correct horse')" 407 "unknown user: 407"
is "$(status 'spaced:a b%c üñí')" 200 "password with space, % and UTF-8: 200"
is "$(status 'Alice2:pw2')" 200 "user added as Alice2 logs in as Alice2"
is "$(status 'alice2:pw2')" 200 "... and as alice2"
is "$(status 'old:pw')" 407 "expired account (--expires in the past): 407"

# Changes reach new logins without restarting Squid, once credentialsttl
# (2 seconds here) has passed.
for u in victim-del victim-lock victim-dis victim-exp; do
	is "$(status "$u:pw")" 200 "$u logs in before the change"
done
CUTTLE user del victim-del 2>/dev/null
CUTTLE user lock victim-lock 2>/dev/null
CUTTLE user disable victim-dis 2>/dev/null
CUTTLE user set victim-exp --expires 2021-06-01 2>/dev/null
sleep 3
is "$(status 'victim-del:pw')" 407 "deleted user: 407"
is "$(status 'victim-lock:pw')" 407 "locked user: 407"
is "$(status 'victim-dis:pw')" 407 "disabled user: 407"
is "$(status 'victim-exp:pw')" 407 "expired user: 407"
CUTTLE user unlock victim-lock 2>/dev/null
CUTTLE user enable victim-dis 2>/dev/null
CUTTLE user set victim-exp --expires never 2>/dev/null
add_user newcomer 'fresh'
printf 'changed\n' | CUTTLE user passwd alice --password-stdin 2>/dev/null
sleep 3
is "$(status 'victim-lock:pw')" 200 "unlocked user: 200 again"
is "$(status 'victim-dis:pw')" 200 "enabled user: 200 again"
is "$(status 'victim-exp:pw')" 200 "expiry removed (user set --expires never): 200 again"
is "$(status 'newcomer:fresh')" 200 "user added while Squid runs: 200"
is "$(status 'alice:correct horse')" 407 "old password after passwd: 407"
is "$(status 'alice:changed')" 200 "new password after passwd: 200"

# Rehash on login through Squid: a hash made with other limits (opslimit 2,
# as by an older configuration) is re-hashed by the helper, running as
# proxy, with the configured ones (opslimit 1), WAL files and all.
sed 's/^opslimit = 1$/opslimit = 2/' "$T/cuttle.conf" > "$T/old-limits.conf"
printf 'legacy\n' | "$T/bin/cuttle" --config "$T/old-limits.conf" user add legacy --password-stdin 2>/dev/null
hash_of() { sqlite3 "$T/store/cuttle.db" "SELECT hash FROM users WHERE name = '$1'"; }
case $(hash_of legacy) in '$argon2id$v=19$m=8,t=2,'*) ok "legacy hash made with opslimit 2" true ;;
*) ok "legacy hash made with opslimit 2" false ;; esac
is "$(status 'legacy:legacy')" 200 "login with a hash of other limits: 200"
sleep 0.5
case $(hash_of legacy) in '$argon2id$v=19$m=8,t=1,'*) ok "re-hashed through Squid with the configured limits" true ;;
*) ok "re-hashed through Squid with the configured limits (got $(hash_of legacy | cut -c1-24))" false ;; esac
printf 'legacy2\n' | CUTTLE user passwd legacy --password-stdin 2>/dev/null
is "$?" 0 "root's CLI writes after the helper's write"
sleep 3
is "$(status 'legacy:legacy2')" 200 "helper reads root's write"

# The reason_ note reaches Squid's own log.
ok "access log shows reason_=ok for a login" grep -q '^alice 200 ok$' "$T/log/reasons.log"
grep '^alice 407' "$T/log/reasons.log" > "$T/log/alice407" || true
ok "access log shows the reason of a refused login" grep -q 'bad_password' "$T/log/alice407"

users=$(ps -o user= -C basic_cuttle_auth | sort -u | tr '\n' ' ')
is "$users" "$SQUID_USER " "helpers run as $SQUID_USER"

# Squid complains in cache.log about anything on a helper's stdout that is
# not a reply; there must be none of that.
ok "no helper protocol complaints in cache.log" \
	sh -c "! grep -Ei 'unexpected reply|helper.*(error|protocol)|Unsupported|crashing' '$T/log/cache.log'"
ok "cache.log has no FATAL" sh -c "! grep -q FATAL '$T/log/cache.log'"

done_testing
