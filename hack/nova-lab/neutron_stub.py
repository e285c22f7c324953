#!/usr/bin/python3
"""Minimal Neutron stand-in for the vmkeeper Nova lab.

Nova talks to Neutron even for servers booted with "networks": "none" (network
and extension listings at boot, port listings on evacuation and host recovery).
This stub answers just enough for that: every collection GET returns an empty
list, quota lookups return unlimited values, and everything else is a 404.

Usage: neutron_stub.py [--host 127.0.0.1] [--port 9696]
"""
import argparse
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UNLIMITED_QUOTA = {
    "network": -1, "subnet": -1, "subnetpool": -1, "port": -1, "router": -1,
    "floatingip": -1, "security_group": -1, "security_group_rule": -1,
    "rbac_policy": -1, "trunk": -1,
}

# collection names whose JSON key differs from the plain "-" -> "_" rule
COLLECTION_KEYS = {"qos/policies": "policies", "qos/rule-types": "rule_types"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vmkeeper-neutron-stub/1"

    def log_message(self, fmt, *args):  # one line per request on stderr
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def _send(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)
        self.close_connection = True

    def _not_found(self):
        self._send(404, {"NeutronError": {
            "type": "NotFound", "message": "not provided by the vmkeeper lab stub",
            "detail": ""}})

    def _drain(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def do_GET(self):
        self._drain()
        path = self.path.split("?", 1)[0].rstrip("/")
        path = re.sub(r"\.json$", "", path)
        if path in ("", "/"):
            return self._send(200, {"versions": [{
                "id": "v2.0", "status": "CURRENT",
                "links": [{"rel": "self", "href": "http://%s/v2.0/" % self.headers.get("Host", "")}]}]})
        if path == "/v2.0":
            return self._send(200, {"resources": []})
        m = re.match(r"^/v2\.0/quotas/([^/]+)(/details)?$", path)
        if m:
            if m.group(2):
                return self._send(200, {"quota": {k: {"limit": -1, "used": 0, "reserved": 0}
                                                  for k in UNLIMITED_QUOTA}})
            return self._send(200, {"quota": dict(UNLIMITED_QUOTA)})
        m = re.match(r"^/v2\.0/(qos/[a-z-]+|[a-z][a-z0-9-]*)$", path)
        if m:
            name = m.group(1)
            key = COLLECTION_KEYS.get(name, name.replace("-", "_"))
            return self._send(200, {key: []})
        return self._not_found()

    def do_HEAD(self):
        self.do_GET()

    def do_DELETE(self):
        self._drain()
        self._not_found()

    do_POST = do_DELETE
    do_PUT = do_DELETE


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9696)
    args = ap.parse_args()
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.daemon_threads = True
    sys.stderr.write("neutron stub listening on %s:%d\n" % (args.host, args.port))
    sys.stderr.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
