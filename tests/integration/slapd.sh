# Private OpenLDAP servers for the LDAP integration tests. Sourced after
# lib.sh (needs $T, bail, free_port) by bash scripts running as root.
#
# Everything lives under $T/ldap and goes away with lib.sh's rm of $T;
# running slapds are stopped by slapd_cleanup, chained in front of the
# EXIT trap lib.sh installed. The system slapd (/etc/ldap/slapd.d, port
# 389) is never touched: each instance has its own slapd.conf, mdb
# directory and loopback high ports.
#
#   slapd_setup         once: CAs, server certificate, bindpw, data LDIF
#                       (slapd_start calls it when needed)
#   slapd_start NAME    NAME is a or b; starts (or restarts, on the same
#                       ports with the same data) instance NAME and waits
#                       until it answers; exports LDAP_PORT_NAME,
#                       LDAPS_PORT_NAME, LDAP_URI_NAME, LDAPS_URI_NAME
#   slapd_stop NAME     kill it and wait until it is gone
#   slapd_pause NAME    SIGSTOP: the kernel still accepts TCP connections,
#                       nothing ever answers
#   slapd_resume NAME   SIGCONT
#
# Directory (suffix dc=example,dc=com), every user under ou=people unless
# said otherwise, login in uid:
#   alice/alice-pw (plain)  bob/bob-pw ({SSHA})  carol/carol-pw
#   admin/admin-pw (an ordinary user called admin)
#   dup/dup-pw twice: uid=dup,ou=people and uid=dup,ou=other
#   'st*r(x)\' / meta-pw    (DN cn=metachar,ou=people; escaped filter
#                            (uid=st\2ar\28x\29\5c))
#   jürgen / grüße          (UTF-8)
#   locked/locked-pw        pwdAccountLockedTime 000001010000Z: bind fails
#                           (49), ppolicy control says "Account locked"
#   expired/expired-pw      policy cn=expiring (pwdMaxAge 60, no grace),
#                           changed in 2020: bind fails (49), ppolicy
#                           control says "Password expired"
#   service account cn=proxy,ou=svc,dc=example,dc=com / svc-secret
#   rootdn cn=admin,dc=example,dc=com / $SLAPD_ROOTPW
# Groups under ou=groups: cn=staff (groupOfNames: alice, carol),
# cn=admins (groupOfUniqueNames: alice), cn=unixers (posixGroup 5000,
# memberUid bob). alice and carol carry memberOf: cn=staff,... (see
# _slapd_add_groups). The base entry's description names the instance
# ("cuttle fixture instance a"), the only difference between a and b.
#
# ACLs: userPassword is "by anonymous auth, by self write, by * none";
# everything else (operational attributes included, when asked for) is
# readable by anyone, anonymous search included.

SLAPD_DIR=$T/ldap
# cuttle's own schema (allow-list entries), from the source tree.
SLAPD_SCHEMA=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../schema/ldap" && pwd)/cuttle.schema
SLAPD_ROOTPW=admin-secret
export LDAP_BASE=dc=example,dc=com
export LDAP_PEOPLE=ou=people,dc=example,dc=com
export LDAP_BIND_DN=cn=proxy,ou=svc,dc=example,dc=com
export LDAP_ROOT_DN=cn=admin,dc=example,dc=com
export LDAP_BINDPW_FILE=$SLAPD_DIR/bindpw
export LDAP_CA=$SLAPD_DIR/ca.pem
export LDAP_OTHER_CA=$SLAPD_DIR/other-ca.pem

# pid of each running instance, by name.
declare -gA SLAPD_PID=()

slapd_cleanup() {
	local name
	for name in "${!SLAPD_PID[@]}"; do
		slapd_stop "$name"
	done
	return 0
}

# The slapds must be gone before lib.sh's cleanup removes $T.
chain_exit slapd_cleanup

_slapd_b64() { printf '%s' "$1" | base64 -w0; }

slapd_setup() {
	[ -f "$SLAPD_DIR/.setup-done" ] && return 0
	mkdir -p "$SLAPD_DIR" || bail "cannot create $SLAPD_DIR"
	chmod 755 "$SLAPD_DIR"
	_slapd_certs || bail "certificate generation failed: $(tail -5 "$SLAPD_DIR/openssl.log")"

	printf 'svc-secret\n' > "$SLAPD_DIR/bindpw"
	chown root:proxy "$SLAPD_DIR/bindpw"
	chmod 0640 "$SLAPD_DIR/bindpw"

	local bob_hash
	bob_hash=$(slappasswd -s bob-pw) || bail "slappasswd failed"
	_slapd_data_ldif "$bob_hash" > "$SLAPD_DIR/data.ldif"
	_slapd_groups_ldif > "$SLAPD_DIR/groups.ldif"
	touch "$SLAPD_DIR/.setup-done"
}

_slapd_certs() {
	(
		cd "$SLAPD_DIR" || exit 1
		# libldap checks a "localhost" URI against gethostname(), so the
		# machine's name is in the certificate too.
		san="IP:127.0.0.1,DNS:localhost"
		h=$(hostname 2> /dev/null)
		case $h in '' | localhost | *[!A-Za-z0-9.-]*) ;; *) san="$san,DNS:$h" ;; esac
		cat > openssl.cnf <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
		ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
		# shellcheck disable=SC2086
		openssl req -x509 -config openssl.cnf -extensions v3_ca $ec -days 30 \
			-subj "/O=cuttle tests/CN=cuttle test CA" -keyout ca.key -out ca.pem &&
			openssl req -x509 -config openssl.cnf -extensions v3_ca $ec -days 30 \
				-subj "/O=somebody else/CN=unrelated CA" -keyout other-ca.key -out other-ca.pem &&
			openssl req -new -config openssl.cnf $ec \
				-subj "/O=cuttle tests/CN=localhost" -keyout server.key -out server.csr &&
			openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
				-set_serial "0x$(openssl rand -hex 8)" -days 30 \
				-extfile openssl.cnf -extensions v3_server -out server.pem &&
			chmod 600 ca.key other-ca.key server.key &&
			chmod 644 ca.pem other-ca.pem server.pem
	) > "$SLAPD_DIR/openssl.log" 2>&1
}

# The entries slapadd loads (everything but the groups). Operational
# attributes (pwdAccountLockedTime, pwdChangedTime, pwdPolicySubentry) can
# only be set this way, not over LDAP.
_slapd_data_ldif() {
	local people=$LDAP_PEOPLE uidn=10000 u
	cat <<LDIF
dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
dc: example
o: Example
description: cuttle fixture instance @INSTANCE@

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: ou=other,dc=example,dc=com
objectClass: organizationalUnit
ou: other

dn: ou=svc,dc=example,dc=com
objectClass: organizationalUnit
ou: svc

dn: ou=groups,dc=example,dc=com
objectClass: organizationalUnit
ou: groups

dn: ou=policies,dc=example,dc=com
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,dc=example,dc=com
objectClass: organizationalRole
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdLockout: TRUE
pwdMaxFailure: 50
pwdMaxAge: 0

dn: cn=expiring,ou=policies,dc=example,dc=com
objectClass: organizationalRole
objectClass: pwdPolicy
cn: expiring
pwdAttribute: userPassword
pwdLockout: TRUE
pwdMaxFailure: 50
pwdMaxAge: 60
pwdGraceAuthNLimit: 0

dn: cn=proxy,ou=svc,dc=example,dc=com
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: proxy
description: service account the helpers bind as
userPassword: svc-secret

LDIF
	# _user UID PASSWORD-LINE [DN] [EXTRA LINES]
	_user() {
		uidn=$((uidn + 1))
		printf 'dn: %s\n' "${3:-uid=$1,$people}"
		printf 'objectClass: inetOrgPerson\nobjectClass: posixAccount\n'
		printf 'uid: %s\ncn: %s\nsn: %s\n' "$1" "$1" "$1"
		printf 'uidNumber: %d\ngidNumber: 5000\nhomeDirectory: /home/%s\n' "$uidn" "$uidn"
		printf '%s\n' "$2"
		[ -n "${4:-}" ] && printf '%s\n' "$4"
		printf '\n'
	}
	_user alice "userPassword: alice-pw"
	_user bob "userPassword: $1"
	_user carol "userPassword: carol-pw"
	_user admin "userPassword: admin-pw"
	_user dup "userPassword: dup-pw"
	_user dup "userPassword: dup-pw" "uid=dup,ou=other,dc=example,dc=com"
	# 'st*r(x)\' is a legal plain LDIF value (no leading space, colon or <).
	# shellcheck disable=SC1003 # the backslash is the value's last character
	_user 'st*r(x)\' "userPassword: meta-pw" "cn=metachar,$people"
	_user locked "userPassword: locked-pw" "" "pwdAccountLockedTime: 000001010000Z"
	_user expired "userPassword: expired-pw" "" \
		"pwdPolicySubentry: cn=expiring,ou=policies,dc=example,dc=com
pwdChangedTime: 20200101000000Z"
	# jürgen: UTF-8, so base64 (the DN too).
	u=jürgen
	uidn=$((uidn + 1))
	cat <<LDIF
dn:: $(_slapd_b64 "uid=$u,$people")
objectClass: inetOrgPerson
objectClass: posixAccount
uid:: $(_slapd_b64 "$u")
cn:: $(_slapd_b64 "Jürgen")
sn: Juergen
uidNumber: $uidn
gidNumber: 5000
homeDirectory: /home/$uidn
userPassword:: $(_slapd_b64 "grüße")

LDIF
	unset -f _user
}

_slapd_groups_ldif() {
	cat <<LDIF
dn: cn=staff,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: staff
member: uid=alice,$LDAP_PEOPLE
member: uid=carol,$LDAP_PEOPLE

dn: cn=admins,ou=groups,dc=example,dc=com
objectClass: groupOfUniqueNames
cn: admins
uniqueMember: uid=alice,$LDAP_PEOPLE

dn: cn=unixers,ou=groups,dc=example,dc=com
objectClass: posixGroup
cn: unixers
gidNumber: 5000
memberUid: bob

LDIF
}

_slapd_conf() {
	# _slapd_conf DIR
	cat <<CONF
# cuttle integration-test slapd; generated by tests/integration/slapd.sh
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
include $SLAPD_SCHEMA
# ppolicy's schema is built into the 2.5 overlay (no ppolicy.schema);
# memberof defines memberOf itself.
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
moduleload memberof

pidfile $1/slapd.pid
argsfile $1/slapd.args

TLSCACertificateFile $SLAPD_DIR/ca.pem
TLSCertificateFile $SLAPD_DIR/server.pem
TLSCertificateKeyFile $SLAPD_DIR/server.key

database mdb
suffix "dc=example,dc=com"
rootdn "cn=admin,dc=example,dc=com"
rootpw $SLAPD_ROOTPW
directory $1/db
maxsize 67108864
index objectClass eq
index uid,cn,member,uniqueMember,memberUid eq
index cuttleAllowNet eq

access to attrs=userPassword
	by anonymous auth
	by self write
	by * none
access to *
	by * read

overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE

overlay ppolicy
ppolicy_default "cn=default,ou=policies,dc=example,dc=com"
ppolicy_use_lockout
CONF
}

# memberOf: slapadd does not run overlays, so the groups are added over
# LDAP as the rootdn once the server runs; the memberof overlay then
# writes memberOf into alice's and carol's entries (stored in the mdb, so
# it survives slapd_stop/slapd_start).
_slapd_add_groups() {
	ldapadd -x -H "$1" -D "$LDAP_ROOT_DN" -w "$SLAPD_ROOTPW" \
		-f "$SLAPD_DIR/groups.ldif" > "$2/groups.log" 2>&1
}

_slapd_check_name() {
	case $1 in
	a | b) ;;
	*) bail "slapd instance must be a or b, not '$1'" ;;
	esac
}

slapd_start() {
	local name=$1 dir port sport i pid first=
	_slapd_check_name "$name"
	[ -z "${SLAPD_PID[$name]:-}" ] || bail "slapd $name already running"
	slapd_setup
	dir=$SLAPD_DIR/$name
	if [ ! -f "$dir/ports" ]; then
		# First start: ports, config, data.
		mkdir -p "$dir/db" || bail "cannot create $dir"
		chmod 755 "$dir"
		case $name in
		a) port=$(free_port 31389) sport=$(free_port 31636) ;;
		b) port=$(free_port 32389) sport=$(free_port 32636) ;;
		esac
		_slapd_conf "$dir" > "$dir/slapd.conf"
		sed "s/@INSTANCE@/$name/" "$SLAPD_DIR/data.ldif" > "$dir/data.ldif"
		slapadd -q -f "$dir/slapd.conf" -l "$dir/data.ldif" > "$dir/slapadd.log" 2>&1 ||
			bail "slapadd for $name failed: $(tail -5 "$dir/slapadd.log")"
		echo "$port $sport" > "$dir/ports"
		first=1
	fi
	read -r port sport < "$dir/ports"
	# -d: stay in the foreground (so $! is slapd) and log "stats" to a file.
	slapd -d stats -f "$dir/slapd.conf" \
		-h "ldap://127.0.0.1:$port/ ldaps://127.0.0.1:$sport/" \
		< /dev/null >> "$dir/slapd.log" 2>&1 &
	pid=$!
	SLAPD_PID[$name]=$pid
	i=0
	until ldapwhoami -x -H "ldap://127.0.0.1:$port" -o nettimeout=1 > /dev/null 2>&1; do
		if ! kill -0 "$pid" 2> /dev/null || [ $i -ge 150 ]; then
			slapd_stop "$name"
			bail "slapd $name did not start: $(tail -5 "$dir/slapd.log")"
		fi
		sleep 0.1
		i=$((i + 1))
	done
	if [ -n "$first" ]; then
		_slapd_add_groups "ldap://127.0.0.1:$port" "$dir" ||
			bail "adding groups to $name failed: $(tail -3 "$dir/groups.log")"
	fi
	export "LDAP_PORT_$name=$port" "LDAPS_PORT_$name=$sport"
	export "LDAP_URI_$name=ldap://127.0.0.1:$port" "LDAPS_URI_$name=ldaps://127.0.0.1:$sport"
}

slapd_stop() {
	local name=$1 pid i=0
	_slapd_check_name "$name"
	pid=${SLAPD_PID[$name]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2> /dev/null
	kill -CONT "$pid" 2> /dev/null # a paused slapd would never see TERM
	while kill -0 "$pid" 2> /dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$pid" 2> /dev/null
	wait "$pid" 2> /dev/null
	unset "SLAPD_PID[$name]"
	return 0
}

slapd_pause() {
	_slapd_check_name "$1"
	[ -n "${SLAPD_PID[$1]:-}" ] || bail "slapd $1 is not running"
	kill -STOP "${SLAPD_PID[$1]}"
}

slapd_resume() {
	_slapd_check_name "$1"
	[ -n "${SLAPD_PID[$1]:-}" ] || bail "slapd $1 is not running"
	kill -CONT "${SLAPD_PID[$1]}"
}
