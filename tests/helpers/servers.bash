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
