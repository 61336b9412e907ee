#!/bin/bash
# shellcheck disable=SC2154 # LDAP_*_a/_b are exported by slapd_start
# The private slapd fixture (slapd.sh) the LDAP tests rely on: both
# instances, the directory's users and groups, TLS, password policy,
# pause/resume and stop/restart on the same ports.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slapd.sh"

unset LDAPTLS_CACERT LDAPTLS_REQCERT

# Every client call is bounded: a paused server must not hang the test.
WHOAMI() { timeout 5 ldapwhoami -x -o nettimeout=3 "$@"; }
SEARCH() { timeout 5 ldapsearch -x -LLL -o ldif-wrap=no -o nettimeout=3 "$@"; }
ndn() { grep -c '^dn:'; }
# bind URI DN PASSWORD → ldapwhoami's exit status, output discarded
bind_rc() {
	WHOAMI -H "$1" -D "$2" -w "$3" > /dev/null 2>&1
	echo $?
}
listening() { ss -Htln "sport = :$1" | grep -q .; }
# connects PORT: a TCP connection to 127.0.0.1:PORT is accepted
connects() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2> /dev/null; }
quiet() { "$@" > /dev/null 2>&1; }

slapd_start a
slapd_start b
ok "instance a answers anonymous whoami" quiet WHOAMI -H "$LDAP_URI_a"
ok "instance b answers anonymous whoami" quiet WHOAMI -H "$LDAP_URI_b"
ok "a and b listen on different ports" \
	test "$LDAP_PORT_a" != "$LDAP_PORT_b" -a "$LDAPS_PORT_a" != "$LDAPS_PORT_b"
is "$LDAP_URI_a" "ldap://127.0.0.1:$LDAP_PORT_a" "LDAP_URI_a"
is "$LDAPS_URI_b" "ldaps://127.0.0.1:$LDAPS_PORT_b" "LDAPS_URI_b"
is "$(SEARCH -H "$LDAP_URI_b" -s base -b "$LDAP_BASE" description | grep ^description:)" \
	"description: cuttle fixture instance b" "base entry names the instance"

# Files.
is "$(stat -c '%U:%G %a' "$LDAP_BINDPW_FILE")" "root:proxy 640" "bindpw root:proxy 0640"
is "$(cat "$LDAP_BINDPW_FILE")" "svc-secret" "bindpw holds svc-secret"
is "$(tail -c1 "$LDAP_BINDPW_FILE" | od -An -c | tr -d ' ')" '\n' "... followed by a newline"
ok "proxy user can read bindpw and the CA" \
	quiet runuser -u proxy -- cat "$LDAP_BINDPW_FILE" "$LDAP_CA" "$LDAP_OTHER_CA"
ok "server certificate is signed by the CA" \
	quiet openssl verify -CAfile "$LDAP_CA" "$T/ldap/server.pem"

# Searches.
is "$(SEARCH -H "$LDAP_URI_a" -b "$LDAP_BASE" '(uid=alice)' dn)" \
	"dn: uid=alice,$LDAP_PEOPLE" "anonymous search finds alice"
is "$(SEARCH -H "$LDAP_URI_a" -b "$LDAP_BASE" '(uid=alice)' userPassword | grep -c userPassword)" \
	0 "anonymous search cannot read userPassword"

# The service account. ldapwhoami -y sends the file verbatim, newline
# included, so the file as it stands is not the password (helpers must
# strip the newline); its first line is.
svcpw=$(head -n1 "$LDAP_BINDPW_FILE")
is "$(WHOAMI -H "$LDAP_URI_a" -D "$LDAP_BIND_DN" -w "$svcpw")" "dn:$LDAP_BIND_DN" \
	"service account binds with the bindpw's first line"
printf '%s' "$svcpw" > "$T/ldap/bindpw-nonl" && chmod 600 "$T/ldap/bindpw-nonl"
is "$(WHOAMI -H "$LDAP_URI_b" -D "$LDAP_BIND_DN" -y "$T/ldap/bindpw-nonl")" "dn:$LDAP_BIND_DN" \
	"service account binds with -y on a newline-free copy (b)"
WHOAMI -H "$LDAP_URI_a" -D "$LDAP_BIND_DN" -y "$LDAP_BINDPW_FILE" > /dev/null 2>&1
is "$?" 49 "-y on bindpw itself sends the newline too: 49"
is "$(SEARCH -H "$LDAP_URI_a" -D "$LDAP_BIND_DN" -w "$svcpw" -b "$LDAP_PEOPLE" '(uid=carol)' dn uid)" \
	"dn: uid=carol,$LDAP_PEOPLE
uid: carol" "service account can search"
is "$(SEARCH -H "$LDAP_URI_a" -D "$LDAP_BIND_DN" -w "$svcpw" -b "$LDAP_PEOPLE" '(uid=carol)' userPassword | grep -c userPassword)" \
	0 "service account cannot read userPassword"
is "$(bind_rc "$LDAP_URI_a" "$LDAP_BIND_DN" wrong)" 49 "service account, wrong password: 49"

# User binds.
is "$(bind_rc "$LDAP_URI_a" "uid=alice,$LDAP_PEOPLE" alice-pw)" 0 "alice binds"
is "$(bind_rc "$LDAP_URI_a" "uid=alice,$LDAP_PEOPLE" alice-PW)" 49 "alice, wrong password: 49"
is "$(bind_rc "$LDAP_URI_a" "uid=bob,$LDAP_PEOPLE" bob-pw)" 0 "bob binds"
is "$(bind_rc "$LDAP_URI_a" "uid=bob,$LDAP_PEOPLE" alice-pw)" 49 "bob, wrong password: 49"
is "$(SEARCH -H "$LDAP_URI_a" -D "$LDAP_ROOT_DN" -w "$SLAPD_ROOTPW" -b "$LDAP_PEOPLE" '(uid=bob)' userPassword |
	sed -n 's/^userPassword:: //p' | base64 -d | cut -c1-6)" "{SSHA}" "bob's password is stored as {SSHA}"
is "$(bind_rc "$LDAP_URI_b" "uid=carol,$LDAP_PEOPLE" carol-pw)" 0 "carol binds (b)"
is "$(bind_rc "$LDAP_URI_a" "uid=admin,$LDAP_PEOPLE" admin-pw)" 0 "the user called admin binds"
is "$(bind_rc "$LDAP_URI_a" "uid=nobody,$LDAP_PEOPLE" x)" 49 "a missing user: 49"
is "$(bind_rc "$LDAP_URI_a" "uid=jürgen,$LDAP_PEOPLE" grüße)" 0 "jürgen binds with grüße"
is "$(bind_rc "$LDAP_URI_a" "uid=jürgen,$LDAP_PEOPLE" grusse)" 49 "jürgen, wrong password: 49"
is "$(SEARCH -H "$LDAP_URI_a" -b "$LDAP_PEOPLE" '(uid=jürgen)' dn | ndn)" 1 "(uid=jürgen) finds one entry"

# dup: the same uid twice.
is "$(SEARCH -H "$LDAP_URI_a" -b "$LDAP_BASE" '(uid=dup)' dn | ndn)" 2 "(uid=dup) finds 2 entries"
is "$(SEARCH -H "$LDAP_URI_a" -b "$LDAP_PEOPLE" '(uid=dup)' dn | ndn)" 1 "... 1 under ou=people"
is "$(bind_rc "$LDAP_URI_a" "uid=dup,ou=other,$LDAP_BASE" dup-pw)" 0 "the other dup binds"

# The user whose uid is 'st*r(x)\'.
meta_dn="cn=metachar,$LDAP_PEOPLE"
is "$(SEARCH -H "$LDAP_URI_a" -b "$LDAP_BASE" '(uid=st\2ar\28x\29\5c)' dn)" "dn: $meta_dn" \
	"escaped filter finds the metachar user"
is "$(SEARCH -H "$LDAP_URI_a" -b "$LDAP_BASE" '(uid=st\2ar\28x\29\5c)' uid)" "dn: $meta_dn
uid: st*r(x)\\" "... whose uid is st*r(x)\\"
SEARCH -H "$LDAP_URI_a" -b "$LDAP_BASE" '(uid=st*r(x)\)' dn > /dev/null 2>&1
ok "the unescaped filter is rejected" test $? -ne 0
is "$(SEARCH -H "$LDAP_URI_a" -b "$LDAP_BASE" '(uid=st*r\28x\29)' dn | ndn)" 0 \
	"a filter missing the trailing \\5c finds nothing"
is "$(bind_rc "$LDAP_URI_a" "$meta_dn" meta-pw)" 0 "metachar user binds"

# TLS.
export LDAPTLS_CACERT=$LDAP_CA
ok "StartTLS (-ZZ) with the right CA (a)" quiet WHOAMI -ZZ -H "$LDAP_URI_a"
ok "StartTLS (-ZZ) with the right CA (b)" quiet WHOAMI -ZZ -H "$LDAP_URI_b"
ok "ldaps with the right CA (a)" quiet WHOAMI -H "$LDAPS_URI_a"
ok "ldaps with the right CA (b)" quiet WHOAMI -H "$LDAPS_URI_b"
ok "ldaps://localhost with the right CA" quiet WHOAMI -H "ldaps://localhost:$LDAPS_PORT_a"
is "$(WHOAMI -ZZ -H "$LDAP_URI_a" -D "uid=alice,$LDAP_PEOPLE" -w alice-pw)" \
	"dn:uid=alice,$LDAP_PEOPLE" "alice binds over StartTLS"
export LDAPTLS_CACERT=$LDAP_OTHER_CA
WHOAMI -ZZ -H "$LDAP_URI_a" > /dev/null 2>&1
ok "StartTLS with the other CA fails" test $? -ne 0
WHOAMI -H "$LDAPS_URI_a" > /dev/null 2>&1
ok "ldaps with the other CA fails" test $? -ne 0
unset LDAPTLS_CACERT

# Password policy.
out=$(WHOAMI -H "$LDAP_URI_a" -D "uid=locked,$LDAP_PEOPLE" -w locked-pw -e ppolicy 2>&1)
is "$?" 49 "locked user: 49"
case $out in *"Account locked"*) ok "... ppolicy control says Account locked" true ;;
*) ok "... ppolicy control says Account locked (got: $out)" false ;; esac
out=$(WHOAMI -H "$LDAP_URI_a" -D "uid=expired,$LDAP_PEOPLE" -w expired-pw -e ppolicy 2>&1)
is "$?" 49 "expired user: 49"
case $out in *"Password expired"*) ok "... ppolicy control says Password expired" true ;;
*) ok "... ppolicy control says Password expired (got: $out)" false ;; esac
out=$(WHOAMI -H "$LDAP_URI_a" -D "uid=carol,$LDAP_PEOPLE" -w nope -e ppolicy 2>&1)
is "$out" "ldap_bind: Invalid credentials (49)" "a plain wrong password has no ppolicy error"
is "$(SEARCH -H "$LDAP_URI_a" -b "$LDAP_PEOPLE" '(uid=locked)' pwdAccountLockedTime | grep ^pwd)" \
	"pwdAccountLockedTime: 000001010000Z" "pwdAccountLockedTime is readable anonymously"

# Groups.
memberof() { SEARCH -H "$1" -b "$LDAP_PEOPLE" "(uid=$2)" memberOf | sed -n 's/^memberOf: //p'; }
is "$(memberof "$LDAP_URI_a" alice)" "cn=staff,ou=groups,$LDAP_BASE" "alice is memberOf staff"
is "$(memberof "$LDAP_URI_b" carol)" "cn=staff,ou=groups,$LDAP_BASE" "carol is memberOf staff (b)"
is "$(memberof "$LDAP_URI_a" bob)" "" "bob has no memberOf"
is "$(SEARCH -H "$LDAP_URI_a" -b "ou=groups,$LDAP_BASE" "(uniqueMember=uid=alice,$LDAP_PEOPLE)" cn | sed -n 's/^cn: //p')" \
	admins "alice is a uniqueMember of admins"
is "$(SEARCH -H "$LDAP_URI_a" -b "ou=groups,$LDAP_BASE" '(&(objectClass=posixGroup)(memberUid=bob))' gidNumber | sed -n 's/^gidNumber: //p')" \
	5000 "bob is in posixGroup unixers (5000)"

# Pause and resume.
slapd_pause a
timeout 3 ldapwhoami -x -H "$LDAP_URI_a" > /dev/null 2>&1
is "$?" 124 "paused: ldapwhoami times out"
ok "paused: the port still accepts TCP connections" connects "$LDAP_PORT_a"
ok "paused a does not affect b" quiet WHOAMI -H "$LDAP_URI_b"
slapd_resume a
ok "resumed: ldapwhoami works again" quiet WHOAMI -H "$LDAP_URI_a"

# Stop and restart on the same ports with the same data.
port=$LDAP_PORT_a sport=$LDAPS_PORT_a
slapd_stop a
silent() { ! listening "$1" && ! listening "$2"; }
ok "stopped: nothing listens on a's ports" silent "$port" "$sport"
WHOAMI -H "$LDAP_URI_a" > /dev/null 2>&1
is "$?" 255 "stopped: ldapwhoami cannot contact a (255)"
slapd_start a
is "$LDAP_PORT_a:$LDAPS_PORT_a" "$port:$sport" "restarted on the same ports"
is "$(bind_rc "$LDAP_URI_a" "uid=alice,$LDAP_PEOPLE" alice-pw)" 0 "restarted: alice binds"
is "$(memberof "$LDAP_URI_a" alice)" "cn=staff,ou=groups,$LDAP_BASE" "restarted: memberOf still there"
ok "restarted: ldaps works" quiet env LDAPTLS_CACERT="$LDAP_CA" timeout 5 ldapwhoami -x -H "$LDAPS_URI_a"

done_testing
