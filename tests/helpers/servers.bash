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
