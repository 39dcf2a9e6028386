#!/usr/bin/env python3
"""A token server for the distribution registry's token auth, as Docker's spec describes it:
GET /token?service=S&scope=repository:NAME:ACTIONS with Basic credentials answers
{"token": JWT, "expires_in": N}; the JWT is ES256-signed with the key whose certificate the
registry trusts (x5c in the header). The user and password it takes come from the
environment (TOKEN_USER, TOKEN_PASSWORD); scopes are granted to them only, and pull on
'public/*' to anyone. Every request is logged to stdout: method, path with its query, and
whether an Authorization header came. Usage: tokend.py KEY CERT ISSUER PORTFILE
"""
import base64
import http.server
import json
import os
import socketserver
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography import x509

key_path, cert_path, issuer, portfile = sys.argv[1:5]
key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
der = cert.public_bytes(serialization.Encoding.DER)
user, password = os.environ["TOKEN_USER"], os.environ["TOKEN_PASSWORD"]
ttl = int(os.environ.get("TOKEN_TTL", "300"))


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(service, sub, access):
    header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(der).decode()]}
    now = int(time.time())
    claims = {"iss": issuer, "sub": sub, "aud": service, "exp": now + ttl, "nbf": now - 10, "iat": now,
              "jti": os.urandom(8).hex(), "access": access}
    signing = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    r, s = decode_dss_signature(key.sign(signing.encode(), ec.ECDSA(hashes.SHA256())))
    return signing + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        auth = self.headers.get("Authorization", "")
        print("GET", self.path, "auth" if auth else "anonymous", flush=True)
        who = None
        if auth.startswith("Basic "):
            u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            if (u, p) != (user, password):
                self.send_response(401)
                self.end_headers()
                return
            who = u
        access = []
        for scope in q.get("scope", []):
            kind, name, actions = scope.split(":")
            granted = actions.split(",") if who else (["pull"] if name.startswith("public/") else [])
            granted = [a for a in granted if a in actions.split(",")]
            if granted:
                access.append({"type": kind, "name": name, "actions": granted})
        body = json.dumps({"token": token(q.get("service", [""])[0], who or "", access), "expires_in": ttl}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
