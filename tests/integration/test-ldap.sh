#!/bin/bash
# basic_cuttle_auth against a real slapd: search then bind, DN templates,
# escaping, password policy, TLS, failover and deadlines, local policy for
# directory users, backend chains, groups, and through Squid.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slapd.sh"

slapd_start a
slapd_start b

# ldap_conf NAME [EXTRA [ldap] LINES...]: a cuttle.conf for the LDAP backend.
ldap_conf() {
	local f=$T/$1.conf
	shift
	{
		printf '[store]\npath = %s/store/cuttle.db\n' "$T"
		printf '[hash]\nopslimit = 1\nmemlimit = 8K\n'
		# One worker and no cache: each request reaches the directory,
		# on one pair of connections (test-speed.sh covers both).
		printf '[auth]\nbackend = ldap\nworkers = 1\n'
		printf '[cache]\nttl = 0\nnegative_ttl = 0\nstale_max = 0\n'
		printf '[ldap]\nbase = %s\nconnect_timeout = 1s\ntimeout = 2s\ndeadline = 4s\nretry = 3s\n' "$LDAP_BASE"
		printf '%s\n' "$@"
	} > "$f"
	chmod 644 "$f"
	echo "$f"
}

# answer CONF LINE [HELPER ARGS...]: one reply from a fresh helper (as proxy).
answer() {
	local conf=$1 line=$2
	shift 2
	# group= notes are checked on their own below.
	printf '%s\n' "$line" | runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" \
		--config "$conf" "$@" 2>> "$T/log/helper.err" | sed 's/ group=[^ ]*//g'
}

SEARCH=$(ldap_conf search "uri = $LDAP_URI_a" "bind_dn = $LDAP_BIND_DN" \
	"bind_password_file = $LDAP_BINDPW_FILE")
G='Invalid username or password'

# Search then bind with a service account; OK carries the groups as notes.
notes=$(printf 'alice alice-pw\nbob bob-pw\n' | runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" \
	--config "$SEARCH" 2>/dev/null | tr '\n' '|')
is "$notes" "OK reason_=ok group=staff group=admins|OK reason_=ok group=unixers|" "directory groups as group= notes"
is "$(answer "$SEARCH" 'alice alice-pw')" "OK reason_=ok" "search+bind: right password"
is "$(answer "$SEARCH" 'alice wrong')" "ERR reason_=bad_password $G" "wrong password"
is "$(answer "$SEARCH" 'nobody alice-pw')" "ERR reason_=unknown_user $G" "unknown user"
is "$(answer "$SEARCH" 'alice ')" "ERR reason_=bad_password $G" "empty password refused before any bind"
is "$(answer "$SEARCH" 'bob bob-pw')" "OK reason_=ok" "{SSHA} password"
is "$(answer "$SEARCH" 'j%C3%BCrgen gr%C3%BC%C3%9Fe')" "OK reason_=ok" "UTF-8 name and password"
is "$(answer "$SEARCH" 'dup dup-pw')" "ERR reason_=ambiguous_user $G" "two entries match: ambiguous, never a guess"
is "$(answer "$SEARCH" 'st*r(x)\ meta-pw')" "OK reason_=ok" "name with filter metacharacters finds only its entry"
for name in '*' 'a*' '*)(uid=*' 'admin)(|(uid=*' '\' 'st*' 'ad*' 'al%FFice' '%2A'; do
	is "$(answer "$SEARCH" "$name admin-pw")" "ERR reason_=unknown_user $G" "injection attempt '$name' matches nobody"
done
for name in 'alice%20' '%20alice' 'al%20%20ice' '%EF%BD%81lice'; do
	is "$(answer "$SEARCH" "$name alice-pw")" "ERR reason_=unknown_user $G" \
		"'$name' (the directory would match alice) is not alice"
done
is "$(answer /dev/null '%EF%BD%81lice alice-pw' -b "$LDAP_PEOPLE" "$LDAP_URI_a")" "ERR reason_=bad_password $G" \
	"DN template: a fullwidth lookalike is not alice either"
is "$(answer /dev/null 'al%FFice alice-pw' -b "$LDAP_PEOPLE" "$LDAP_URI_a")" "ERR reason_=bad_password $G" \
	"DN template: invalid UTF-8 is a refusal, not a backend error"
NOBASE=$(ldap_conf nobase "uri = $LDAP_URI_a")
sed -i "s|^base = .*|base = ou=nothere,$LDAP_BASE|" "$NOBASE"
case $(answer "$NOBASE" 'alice alice-pw') in
"BH reason_=backend_error "*"check [ldap] base"*) ok "a base that does not exist: BH backend_error, not unknown users" true ;;
*) ok "a base that does not exist: BH backend_error (got: $(answer "$NOBASE" 'alice alice-pw'))" false ;;
esac
is "$(answer "$SEARCH" 'ali%00ce alice-pw')" "BH reason_=bad_request bad request: NUL byte in user name or password" \
	"NUL in a name: BH before the directory"
is "$(answer "$SEARCH" 'locked locked-pw')" "ERR reason_=locked $G" \
	"ppolicy lock: reason locked, generic text (said whatever the password)"
is "$(answer "$SEARCH" 'expired expired-pw')" "ERR reason_=expired Account expired" \
	"ppolicy expiry: reason expired, shown (password proven)"

# DN-template mode: basic_ldap_auth's options only.
is "$(answer /dev/null 'alice alice-pw' -b "$LDAP_PEOPLE" -u uid "$LDAP_URI_a")" "OK reason_=ok" \
	"DN template (-b -u, server as argument)"
is "$(answer /dev/null 'nobody x' -b "$LDAP_PEOPLE" "$LDAP_URI_a")" "ERR reason_=bad_password $G" \
	"DN template: unknown user reported as bad_password"
is "$(answer /dev/null 'alice,ou=x alice-pw' -b "$LDAP_PEOPLE" "$LDAP_URI_a")" "ERR reason_=bad_password $G" \
	"DN template: a comma in the name is escaped, not a DN injection"
host=${LDAP_URI_a#ldap://}
is "$(answer /dev/null 'alice alice-pw' -b "$LDAP_PEOPLE" -h "${host%:*}" -p "${host#*:}")" "OK reason_=ok" \
	"-h HOST -p PORT"
is "$(answer /dev/null 'alice alice-pw' -b "$LDAP_BASE" -f 'uid=%s' -H "$LDAP_URI_a")" "OK reason_=ok" \
	"-f filter without parentheses, anonymous search"
is "$(answer /dev/null 'alice alice-pw' -b "$LDAP_BASE" -f '(uid=%s)' -D "$LDAP_BIND_DN" \
	-W "$LDAP_BINDPW_FILE" -P -O -R -v 3 -c 2 -t 3 -a never -s sub "$LDAP_URI_a")" "OK reason_=ok" \
	"the full basic_ldap_auth option set"

# Compare mode (-U) needs read access to the password: not granted here,
# so slapd answers "no such attribute" / insufficient access → refused.
out=$(answer /dev/null 'alice alice-pw' -b "$LDAP_BASE" -f '(uid=%s)' -U userPassword "$LDAP_URI_a")
case $out in "ERR "* | "BH "*) ok "-U compare mode answers (without read access: refused)" true ;;
*) ok "-U compare mode answers (got: $out)" false ;; esac

# -w: accepted with a warning and wiped from the process arguments.
coproc W { runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" -b "$LDAP_BASE" -f '(uid=%s)' \
	-D "$LDAP_BIND_DN" -w svc-secret "$LDAP_URI_a" 2> "$T/log/w.err"; }
printf 'alice alice-pw\n' >&"${W[1]}"
IFS= read -r -t 10 R <&"${W[0]}"
is "${R%% group=*}" "OK reason_=ok" "-w password works"
pid=$(pgrep -f "^$T/bin/basic_cuttle_auth -b" | head -1)
ok "-w password is gone from /proc/PID/cmdline" sh -c "! tr '\\0' ' ' < /proc/$pid/cmdline | grep -q svc-secret"
exec {W[1]}>&-
wait "$W_PID" 2>/dev/null
ok "-w warns on stderr" grep -q -- "-w puts the bind password" "$T/log/w.err"
# Wiped even when an earlier option is bad (the helper stays up answering BH).
coproc W2 { runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" -X -b "$LDAP_BASE" \
	-w TOPSECRET "$LDAP_URI_a" 2>/dev/null; }
printf 'alice alice-pw\n' >&"${W2[1]}"
IFS= read -r -t 10 R <&"${W2[0]}"
pid=$(pgrep -f "^$T/bin/basic_cuttle_auth -X" | head -1)
ok "-w wiped even after a bad option" sh -c "! tr '\\0' ' ' < /proc/$pid/cmdline | grep -q TOPSECRET"
exec {W2[1]}>&-
wait "$W2_PID" 2>/dev/null

# Misconfiguration answers BH naming it, and never exits.
printf 'wrong-secret\n' > "$T/badpw" && chown root:proxy "$T/badpw" && chmod 640 "$T/badpw"
out=$(answer /dev/null 'alice alice-pw' -b "$LDAP_BASE" -f '(uid=%s)' -D "$LDAP_BIND_DN" -W "$T/badpw" "$LDAP_URI_a")
case $out in "BH reason_=backend_error directory unusable: "*"service account bind refused"*) ok "service account refused: BH backend_error" true ;;
*) ok "service account refused: BH backend_error (got: $out)" false ;; esac
chmod 644 "$T/badpw"
out=$(answer /dev/null 'alice alice-pw' -b "$LDAP_BASE" -f '(uid=%s)' -D "$LDAP_BIND_DN" -W "$T/badpw" "$LDAP_URI_a")
case $out in "BH reason_=backend_error config error: bind_password_file"*"chmod 0640"*) ok "world-readable bind password file refused, fix named" true ;;
*) ok "world-readable bind password file refused (got: $out)" false ;; esac
out=$(answer /dev/null 'alice alice-pw' -b "$LDAP_BASE" -f '(uid=%x)' "$LDAP_URI_a")
case $out in "BH reason_=backend_error config error: -f (uid=%x): "*) ok "bad filter template: BH naming -f" true ;;
*) ok "bad filter template (got: $out)" false ;; esac

# TLS: ldaps and StartTLS with the test CA; a wrong CA is a BH, not an exit.
TLS=$(ldap_conf tls "uri = $LDAPS_URI_a" "ca_file = $LDAP_CA")
is "$(answer "$TLS" 'alice alice-pw')" "OK reason_=ok" "ldaps:// with the CA"
BADTLS=$(ldap_conf badtls "uri = $LDAPS_URI_a" "ca_file = $LDAP_OTHER_CA")
out=$(answer "$BADTLS" 'alice alice-pw')
case $out in "BH reason_=backend_"*) ok "ldaps:// with the wrong CA: BH" true ;;
*) ok "ldaps:// with the wrong CA: BH (got: $out)" false ;; esac
STLS=$(ldap_conf stls "uri = $LDAP_URI_a" "starttls = yes" "ca_file = $LDAP_CA" "require_tls = yes")
is "$(answer "$STLS" 'alice alice-pw')" "OK reason_=ok" "StartTLS with the CA (require_tls on)"
BADSTLS=$(ldap_conf badstls "uri = $LDAP_URI_a" "starttls = yes" "ca_file = $LDAP_OTHER_CA")
printf 'alice alice-pw\nbob bob-pw\n' | runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" \
	--config "$BADSTLS" > "$T/stls.out" 2>/dev/null
is "$?" 0 "StartTLS failure: the helper keeps running to EOF"
is "$(grep -c '^BH reason_=backend_error directory unusable: .*StartTLS failed' "$T/stls.out")" 2 \
	"StartTLS failure: BH backend_error for each request"
REQ=$(ldap_conf req "uri = $LDAP_URI_a" "require_tls = yes")
out=$(answer "$REQ" 'alice alice-pw')
case $out in "BH reason_=backend_error config error: [ldap] require_tls:"*) ok "require_tls refuses ldap:// without StartTLS" true ;;
*) ok "require_tls refuses clear text (got: $out)" false ;; esac
answer "$(ldap_conf far "uri = ldap://192.0.2.1:389")" 'x y' > /dev/null 2>&1
ok "clear-text binds to a non-loopback server are warned about" \
	grep -q "192.0.2.1:389: simple binds go in clear text" "$T/log/helper.err"

# Local policy on directory users; a missing store is no problem.
NOSTORE=$(ldap_conf nostore "uri = $LDAP_URI_a")
is "$(answer "$NOSTORE" 'alice alice-pw')" "OK reason_=ok" "LDAP only, no local store: logins work"
CUTTLE() { "$T/bin/cuttle" --config "$SEARCH" "$@"; }
CUTTLE init > /dev/null
CUTTLE user add carol --no-password 2> /dev/null
is "$(CUTTLE user show carol --json | jq -r .hash_scheme)" "none" "--no-password: local record without a password"
is "$(answer "$SEARCH" 'carol carol-pw')" "OK reason_=ok" "directory user with a local record logs in"
CUTTLE user disable carol 2> /dev/null
is "$(answer "$SEARCH" 'carol carol-pw')" "ERR reason_=disabled Account disabled" "local disable applies to a directory user"
is "$(answer "$SEARCH" 'carol wrong')" "ERR reason_=bad_password $G" "... state hidden without the right password"
CUTTLE user enable carol 2> /dev/null
CUTTLE user set carol --expires 2020-01-01 2> /dev/null
is "$(answer "$SEARCH" 'carol carol-pw')" "ERR reason_=expired Account expired" "local expiry applies to a directory user"

# Chains: local accounts first, the directory for names the store lacks.
CHAIN=$(ldap_conf chain "uri = $LDAP_URI_a")
sed -i 's/^backend = ldap$/backend = sqlite, ldap/' "$CHAIN"
printf 'local-pw\n' | CUTTLE user add localonly --password-stdin 2> /dev/null
printf 'local-alice\n' | CUTTLE user add alice --password-stdin 2> /dev/null
is "$(answer "$CHAIN" 'localonly local-pw')" "OK reason_=ok" "chain: local user"
is "$(answer "$CHAIN" 'bob bob-pw')" "OK reason_=ok" "chain: directory user"
is "$(answer "$CHAIN" 'alice local-alice')" "OK reason_=ok" "chain: a local account wins over the directory"
is "$(answer "$CHAIN" 'alice alice-pw')" "ERR reason_=bad_password $G" "... and the directory is not asked for it"
is "$(answer "$CHAIN" 'carol carol-pw')" "ERR reason_=expired Account expired" "chain: --no-password user goes on to LDAP, with local state"

# Groups: each kind of membership, and memberOf.
groups=$("$T/bin/ldap-groups" "$SEARCH" alice bob carol nobody)
is "$(sed -n 1p <<< "$groups" | tr ' ' '\n' | grep . | sort | tr '\n' ' ')" "admins alice: staff " \
	"alice: groupOfNames and groupOfUniqueNames"
is "$(sed -n 2p <<< "$groups")" "bob: unixers" "bob: posixGroup memberUid"
is "$(sed -n 3p <<< "$groups")" "carol: staff" "carol: staff"
ok "unknown user: not found" grep -q '^nobody: (not found' <<< "$groups"
MEMBEROF=$(ldap_conf memberof "uri = $LDAP_URI_a" "user_group_attr = memberOf")
is "$("$T/bin/ldap-groups" "$MEMBEROF" alice)" "alice: staff" "groups from the user's memberOf"
NESTED=$(ldap_conf nested "uri = $LDAP_URI_a" "group_filter = (&(objectClass=groupOfNames)(member=%d)(cn=st*))")
is "$("$T/bin/ldap-groups" "$NESTED" alice)" "alice: staff" "group_filter template with %d"

# ext_cuttle_acl --mode group against the directory.
EXTG=$T/bin/ext_cuttle_acl
grp() { runuser -u "$SQUID_USER" -- "$EXTG" "$@" 2>/dev/null | cut -d' ' -f1-2 | tr '\n' '|'; }
REQS='alice staff\nbob staff\nbob unixers\nalice nope admins\nnobody staff\ncarol staff\n'
is "$(printf "$REQS" | grp --config "$SEARCH" --mode group)" \
	"OK reason_=ok|ERR reason_=not_in_group|OK reason_=ok|OK reason_=ok|ERR reason_=not_in_group|OK reason_=ok|" \
	"group mode: the directory's groups of each kind"
# The same requests with ext_ldap_group_acl's options, ours and theirs.
GOPTS=(-b "ou=groups,$LDAP_BASE" -f '(&(objectClass=groupOfNames)(cn=%g)(member=%u))'
	-B "$LDAP_PEOPLE" -F '(uid=%s)' -D "$LDAP_BIND_DN" -W "$LDAP_BINDPW_FILE" -H "$LDAP_URI_a")
ours=$(printf "$REQS" | grp "${GOPTS[@]}" | sed 's/ reason_=[a-z_]*//g')
theirs=$(printf "$REQS" | runuser -u "$SQUID_USER" -- /usr/lib/squid/ext_ldap_group_acl "${GOPTS[@]}" 2>/dev/null |
	cut -d' ' -f1 | tr '\n' '|')
is "$ours" "OK|ERR|ERR|ERR|ERR|OK|" "ext_ldap_group_acl options (-b -f %g/%u -B -F): member of groupOfNames"
is "$theirs" "$ours" "... the same answers as Squid's ext_ldap_group_acl"
# %v is the user too, as ext_ldap_group_acl really does it.
VOPTS=(-b "ou=groups,$LDAP_BASE" -f '(&(objectClass=groupOfNames)(cn=staff)(member=%v))'
	-B "$LDAP_PEOPLE" -F '(uid=%s)' -H "$LDAP_URI_a")
is "$(printf 'alice x\nbob x\n' | grp "${VOPTS[@]}" | sed 's/ reason_=[a-z_]*//g')" \
	"$(printf 'alice x\nbob x\n' | runuser -u "$SQUID_USER" -- /usr/lib/squid/ext_ldap_group_acl "${VOPTS[@]}" 2>/dev/null | cut -d' ' -f1 | tr '\n' '|')" \
	"%v means what it means to ext_ldap_group_acl"
PX=(-b "ou=groups,$LDAP_BASE" -f '(&(objectClass=posixGroup)(cn=%g)(memberUid=%u))' -H "$LDAP_URI_a")
is "$(printf 'bob unixers\nalice unixers\n' | grp "${PX[@]}")" "OK reason_=ok|ERR reason_=not_in_group|" \
	"posixGroup with %u as the login (no -F)"
is "$(printf 'EXAMPLE%%5Cbob unixers\nbob@EXAMPLE.COM unixers\n' | grp "${PX[@]}" -S -K)" \
	"OK reason_=ok|OK reason_=ok|" "-S strips DOMAIN\\, -K strips @REALM"
is "$(printf 'al*) staff\n*)(cn=* staff\n' | grp "${GOPTS[@]}")" "ERR reason_=not_in_group|ERR reason_=not_in_group|" \
	"group mode: filter metacharacters in names match nobody"

# Allow-list entries kept in the directory (schema/ldap/cuttle.schema).
ldapadd -x -H "$LDAP_URI_a" -D "$LDAP_ROOT_DN" -w "$SLAPD_ROOTPW" \
	-f "$(dirname "$0")/../../schema/ldap/example-allow.ldif" > /dev/null ||
	bail "loading schema/ldap/example-allow.ldif failed"
DIRALLOW=$(ldap_conf dirallow "uri = $LDAP_URI_a" "allow_base = ou=allow,$LDAP_BASE" "allow_refresh = 2s")
sed -i "s|^path = .*|path = $T/no-store/cuttle.db|" "$DIRALLOW"
coproc A { runuser -u "$SQUID_USER" -- "$T/bin/ext_cuttle_acl" --config "$DIRALLOW" 2>/dev/null; }
aask() { printf '%s\n' "$1" >&"${A[1]}"; IFS= read -r -t 10 R <&"${A[0]}"; }
aask 192.0.2.5; is "$R" "OK reason_=ok" "directory allow list: IPv4 prefix (no local store needed)"
aask 2001:db8:1::5; is "$R" "OK reason_=ok" "directory allow list: IPv6 prefix"
aask 198.51.100.1; is "$R" "ERR reason_=not_allowed" "directory allow list: other address refused"
printf 'dn: cn=office,ou=allow,%s\nchangetype: modify\nadd: cuttleAllowNet\ncuttleAllowNet: 198.51.100.0/24\n' "$LDAP_BASE" |
	ldapmodify -x -H "$LDAP_URI_a" -D "$LDAP_ROOT_DN" -w "$SLAPD_ROOTPW" > /dev/null
sleep 2.5
aask 198.51.100.1; is "$R" "OK reason_=ok" "an entry added in the directory applies after allow_refresh"
slapd_stop a
sleep 2.5
aask 198.51.100.1; is "$R" "OK reason_=ok" "directory down: the last entries stay in use"
slapd_start a
exec {A[1]}>&-
wait "$A_PID" 2>/dev/null

# Persistent connections: one helper, many requests, two connections
# (searches and user binds); a server restart is bridged by reconnecting.
ONE=$(ldap_conf one "uri = $LDAP_URI_a" "bind_dn = $LDAP_BIND_DN" "bind_password_file = $LDAP_BINDPW_FILE")
accepts() { grep -c ' ACCEPT from ' "$SLAPD_DIR/a/slapd.log"; }
before=$(accepts)
for i in 1 2 3 4 5 6; do echo 'alice alice-pw'; echo 'bob wrong'; done |
	runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" --config "$ONE" > "$T/persist.out" 2>/dev/null
is "$(grep -c '^OK' "$T/persist.out") $(grep -c '^ERR reason_=bad_password' "$T/persist.out")" "6 6" \
	"12 requests on kept connections answered"
is "$(( $(accepts) - before ))" 2 "12 requests used 2 connections (search and bind), kept open"
coproc K { runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" --config "$ONE" 2>/dev/null; }
printf 'alice alice-pw\n' >&"${K[1]}"; IFS= read -r -t 10 R <&"${K[0]}"
is "${R%% group=*}" "OK reason_=ok" "before the server restarts"
slapd_stop a
slapd_start a
printf 'alice alice-pw\n' >&"${K[1]}"; IFS= read -r -t 10 R <&"${K[0]}"
is "${R%% group=*}" "OK reason_=ok" "server restarted: the dropped connection is reopened transparently"
exec {K[1]}>&-
wait "$K_PID" 2>/dev/null

# Failover, circuit breaker, recovery and failback, with one helper
# process answering throughout.
FAIL=$(ldap_conf failover "uri = $LDAP_URI_a $LDAP_URI_b" "bind_dn = $LDAP_BIND_DN" \
	"bind_password_file = $LDAP_BINDPW_FILE")
coproc H { runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" --config "$FAIL" -d 2> "$T/log/failover.err"; }
ask() {
	R=
	local t0=$(date +%s%N)
	printf '%s\n' "$1" >&"${H[1]}"
	IFS= read -r -t 20 R <&"${H[0]}"
	R=$(sed 's/ group=[^ ]*//g' <<< "$R")
	MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}
binds() { grep -c "BIND dn=\"uid=alice,$LDAP_PEOPLE\"" "$SLAPD_DIR/$1/slapd.log"; }
ask 'alice alice-pw'
is "$R" "OK reason_=ok" "failover setup: answered by the first server"
a0=$(binds a)
slapd_stop a
ask 'alice alice-pw'
is "$R" "OK reason_=ok" "first server stopped: answered by the second"
ok "... within the deadline (${MS} ms < 4000)" test "$MS" -lt 4000
slapd_stop b
ask 'alice alice-pw'
case $R in "BH reason_=backend_down "*) ok "both stopped: BH backend_down" true ;;
*) ok "both stopped: BH backend_down (got: $R)" false ;; esac
ok "... within the deadline (${MS} ms < 5000)" test "$MS" -lt 5000
ask 'alice alice-pw'
case $R in "BH reason_=backend_down directory unavailable: all 2 directory servers are down"*) ok "circuit open: says all servers are down" true ;;
*) ok "circuit open: says all servers are down (got: $R)" false ;; esac
ok "... and answers at once (${MS} ms < 500)" test "$MS" -lt 500
slapd_start b
sleep 3.5
ask 'alice alice-pw'
is "$R" "OK reason_=ok" "second server back: OK again without restarting the helper"
slapd_start a
sleep 3.5
ask 'alice alice-pw'
is "$R" "OK reason_=ok" "first server back"
ask 'bob bob-pw'
ok "failed back to the first server (its log shows the new bind)" test "$(binds a)" -gt "$a0"
# A server that accepts connections but never answers.
slapd_pause a
sleep 3.5
ask 'alice alice-pw'
is "$R" "OK reason_=ok" "first server hung (SIGSTOP): answered by the second"
ok "... within timeout + margin (${MS} ms < 4000)" test "$MS" -lt 4000
slapd_stop b
sleep 3.5
ask 'alice alice-pw'
case $R in "BH reason_=backend_down "*) ok "hung first, second stopped: BH" true ;;
*) ok "hung first, second stopped: BH (got: $R)" false ;; esac
ok "... within the 4s deadline + margin (${MS} ms < 5500)" test "$MS" -lt 5500
slapd_resume a
slapd_start b
sleep 3.5
ask 'alice alice-pw'
is "$R" "OK reason_=ok" "servers back: OK"
# ldaps:// to a server that accepts and never answers: the TLS handshake
# is bounded too (a watchdog shuts the socket at the deadline).
HUNGTLS=$(ldap_conf hungtls "uri = $LDAPS_URI_a" "ca_file = $LDAP_CA")
slapd_pause a
t0=$(date +%s%N)
out=$(timeout 30 bash -c "printf 'alice alice-pw\n' | runuser -u $SQUID_USER -- $T/bin/basic_cuttle_auth --config $HUNGTLS 2>/dev/null")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
slapd_resume a
case $out in "BH reason_=backend_down "*) ok "ldaps:// to a hung server: BH" true ;;
*) ok "ldaps:// to a hung server: BH (got: $out)" false ;; esac
ok "... within the 4s deadline + margin (${ms} ms < 6000)" test "$ms" -lt 6000
exec {H[1]}>&-
wait "$H_PID" 2>/dev/null

# Through Squid with basic_ldap_auth's options, end to end with curl.
write_conf
origin_start
squid_start "-b $LDAP_BASE -f (uid=%s) -D $LDAP_BIND_DN -W $LDAP_BINDPW_FILE -H $LDAP_URI_a -H $LDAP_URI_b"
is "$(status 'alice:alice-pw')" 200 "Squid: directory user, right password: 200"
is "$(status 'alice:wrong')" 407 "Squid: wrong password: 407"
is "$(status 'nobody:x')" 407 "Squid: unknown user: 407"
is "$(status 'dup:dup-pw')" 407 "Squid: ambiguous user: 407"
is "$(status 'st*r(x)\:meta-pw')" 200 "Squid: metacharacter user: 200"
is "$(status '*:meta-pw')" 407 "Squid: '*' matches nobody: 407"
is "$(status 'jürgen:grüße')" 200 "Squid: UTF-8 user: 200"

done_testing
