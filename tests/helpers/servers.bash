# Real servers for the tests, on loopback ports of their own: nginx (Range,
# limit_rate), the fault server, and (later) sshd. Each writes its pid so the
# suite's teardown_file can stop it.
# shellcheck shell=bash

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() { # PORT -> 0 once something listens there (5 s at most)
	local _
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# nginx_start ROOT: serve ROOT at $NGINX_URL/, and at $NGINX_URL/slow/ at 25 MB/s per connection.
nginx_start() {
	local root=$1 dir=$BATS_FILE_TMPDIR/nginx
	mkdir -p "$dir"
	NGINX_PORT=$(free_port)
	local user=""
	[ "$(id -u)" -ne 0 ] || user="user root;"
	cat >"$dir/nginx.conf" <<CONF
$user
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	sendfile on;
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		root $root;
		location /slow/ { alias $root/; limit_rate 25m; }
	}
}
CONF
	nginx -c "$dir/nginx.conf" -p "$dir" || return 1
	wait_port "$NGINX_PORT"
	export NGINX_PORT NGINX_URL="http://127.0.0.1:$NGINX_PORT"
}

nginx_stop() {
	local pid=$BATS_FILE_TMPDIR/nginx/nginx.pid
	[ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null
	return 0
}

# faultd_start FILE: the fault server for FILE at $FAULT_URL.
faultd_start() {
	local portfile=$BATS_FILE_TMPDIR/faultd.port
	rm -f "$portfile"
	python3 "$TOP/tests/helpers/faultd.py" "$1" "$portfile" 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/faultd.pid"
	local _
	for _ in $(seq 1 100); do
		[ -s "$portfile" ] && break
		sleep 0.05
	done
	FAULT_URL="http://127.0.0.1:$(cat "$portfile")"
	export FAULT_URL
}

faultd_stop() {
	local pid=$BATS_FILE_TMPDIR/faultd.pid
	[ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null
	return 0
}

# sshd_start: OpenSSH's sshd on a loopback port as the "guest": a fresh host key, one
# authorized client key, and a guest tree (tests/helpers/guest-shell) at $GUEST.
# Sets SSH_PORT, GUEST, CLIENT_KEY, KNOWN_HOSTS (the host key as claw-inject would record it).
sshd_start() {
	local dir=$BATS_FILE_TMPDIR/sshd
	mkdir -p "$dir" /run/sshd
	GUEST=$BATS_FILE_TMPDIR/guest
	mkdir -p "$GUEST/var/log" "$GUEST/home" "$GUEST/bin" "$GUEST/Applications"
	ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key"
	cp "$dir/client_key.pub" "$dir/authorized_keys"
	SSH_PORT=$(free_port)
	cat >"$dir/sshd_config" <<CONF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $dir/sshd.pid
ForceCommand $TOP/tests/helpers/guest-shell $GUEST
CONF
	"$(command -v sshd || echo /usr/sbin/sshd)" -f "$dir/sshd_config" -E "$dir/sshd.log" || return 1
	wait_port "$SSH_PORT"
	CLIENT_KEY=$dir/client_key
	KNOWN_HOSTS=$dir/known_hosts
	printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$dir/host_key.pub")" >"$KNOWN_HOSTS"
	export SSH_PORT GUEST CLIENT_KEY KNOWN_HOSTS
}

sshd_stop() {
	local pid=$BATS_FILE_TMPDIR/sshd/sshd.pid
	[ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null
	return 0
}

# guest_bundle NAME: a bundle that points at the test guest, as claw-inject and claw-ip leave it.
guest_bundle() {
	local d=$CLAW_HOME/VMs/$1.clawbundle
	make_bundle "$d"
	mkdir -p "$d/ssh" "$d/run"
	cp "$CLIENT_KEY" "$d/ssh/id_ed25519"
	cp "$KNOWN_HOSTS" "$d/ssh/known_hosts"
	echo 127.0.0.1 >"$d/run/ip"
	echo "$d"
}

# registry_start NAME [tls] [auth]: Debian's docker-registry (the CNCF distribution registry) on
# loopback, its storage and log in $BATS_FILE_TMPDIR/registry-NAME. With tls it serves HTTPS for
# localhost under a test CA made here (REG_CA); with auth it wants htpasswd Basic auth for
# $REG_USER / $REG_PASSWORD; with token it wants Bearer tokens from tokend.py (on loopback, its
# requests logged in tokend.log), which gives them to $REG_USER / $REG_PASSWORD, and pull on
# public/* to anyone. Sets REG (host:port) and REG_DIR.
registry_start() {
	local name=$1 tls=false auth=false token=false arg
	shift
	for arg in "$@"; do
		case $arg in
		tls) tls=true ;;
		auth) auth=true ;;
		token) token=true ;;
		esac
	done
	REG_DIR=$BATS_FILE_TMPDIR/registry-$name
	mkdir -p "$REG_DIR/data"
	local port host=127.0.0.1
	port=$(free_port)
	{
		printf 'version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\n'
		printf 'storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$REG_DIR/data"
		printf 'http:\n  addr: 127.0.0.1:%s\n' "$port"
	} >"$REG_DIR/config.yml"
	if $tls; then
		host=localhost
		registry_ca "$REG_DIR" || return 1
		printf '  tls:\n    certificate: %s\n    key: %s\n' "$REG_DIR/server.crt" "$REG_DIR/server.key" >>"$REG_DIR/config.yml"
	fi
	if $auth; then
		# shellcheck disable=SC2016 # shell characters in the password, never expanded, on purpose
		export REG_USER=claw REG_PASSWORD='s3cret p4ss;$(x)'
		printf '%s' "$REG_PASSWORD" | htpasswd -iBn "$REG_USER" >"$REG_DIR/htpasswd" 2>/dev/null || return 1
		printf 'auth:\n  htpasswd:\n    realm: claw-test\n    path: %s\n' "$REG_DIR/htpasswd" >>"$REG_DIR/config.yml"
	fi
	if $token; then
		# shellcheck disable=SC2016 # shell characters in the password, never expanded, on purpose
		export REG_USER=claw REG_PASSWORD='t0ken p4ss;$(x)'
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=claw-tokend \
			-keyout "$REG_DIR/token.key" -out "$REG_DIR/token.crt" 2>/dev/null || return 1
		rm -f "$REG_DIR/tokend.port"
		TOKEN_USER=$REG_USER TOKEN_PASSWORD=$REG_PASSWORD python3 "$TOP/tests/helpers/tokend.py" "$REG_DIR/token.key" \
			"$REG_DIR/token.crt" claw-tokend "$REG_DIR/tokend.port" >"$REG_DIR/tokend.log" 2>&1 3>&- &
		echo $! >"$REG_DIR/tokend.pid"
		local _
		for _ in $(seq 100); do
			[ -s "$REG_DIR/tokend.port" ] && break
			sleep 0.05
		done
		printf 'auth:\n  token:\n    realm: http://127.0.0.1:%s/token\n    service: claw-registry\n    issuer: claw-tokend\n    rootcertbundle: %s\n' \
			"$(cat "$REG_DIR/tokend.port")" "$REG_DIR/token.crt" >>"$REG_DIR/config.yml"
	fi
	docker-registry serve "$REG_DIR/config.yml" >"$REG_DIR/log" 2>&1 3>&- &
	echo $! >"$REG_DIR/pid"
	wait_port "$port" || return 1
	REG=$host:$port
	export REG REG_DIR
}

# registry_ca DIR: a CA and a certificate for localhost and 127.0.0.1 signed by it, made by openssl.
registry_ca() {
	local d=$1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=claw-test-ca \
		-keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null || return 1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
		-keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null || return 1
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$d/san.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
		-extfile "$d/san.ext" -out "$d/server.crt" 2>/dev/null || return 1
	export REG_CA=$d/ca.crt
}

# registry_stop DIR: stop the registry started there.
registry_stop() {
	[ -f "$1/pid" ] && kill "$(cat "$1/pid")" 2>/dev/null
	[ -f "$1/tokend.pid" ] && kill "$(cat "$1/tokend.pid")" 2>/dev/null
	return 0
}

# registry_blob_puts DIR: how many blob uploads the registry has finished (its access log's PUTs).
registry_blob_puts() {
	grep -c '"PUT /v2/[^ ]*/blobs/uploads/' "$1/log" || true
}
