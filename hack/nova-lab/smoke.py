#!/usr/bin/python3
"""Smoke test of a running vmkeeper Nova lab (hack/nova-lab.sh smoke).

Plain HTTP with the standard library only, the way a client that knows nothing
of OpenStack's Python libraries sees the lab: token from Keystone, the compute
version document, services, hypervisors, a boot pinned to compute-1 with
"networks": "none", then a host failure: SIGKILL compute-1, force it down,
evacuate, see the server ACTIVE on another host, bring compute-1 back and see
the evacuation migration completed. Deletes its servers at the end. Prints the
time of each step.

Environment: VMKEEPER_NOVA_LAB_KEYSTONE_PORT, VMKEEPER_NOVA_LAB_ADMIN_PASSWORD
(set by nova-lab.sh), VMKEEPER_NOVA_LAB_SCRIPT (path of nova-lab.sh).
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

KEYSTONE = "http://127.0.0.1:%s/v3" % os.environ.get("VMKEEPER_NOVA_LAB_KEYSTONE_PORT", "5000")
PASSWORD = os.environ.get("VMKEEPER_NOVA_LAB_ADMIN_PASSWORD", "vmkeeper-lab-admin")
SCRIPT = os.environ.get("VMKEEPER_NOVA_LAB_SCRIPT",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "nova-lab.sh"))
MV = "2.74"  # pinning a host at boot needs 2.74; force-down 2.53; networks none 2.37
T0 = time.monotonic()
last = [T0]


def step(msg):
    now = time.monotonic()
    print("smoke: %-62s %6.1fs  (total %.1fs)" % (msg, now - last[0], now - T0), flush=True)
    last[0] = now


def request(method, url, body=None, token=None, mv=MV, expect=(200, 201, 202, 204)):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    if mv:
        req.add_header("OpenStack-API-Version", "compute " + mv)
    try:
        with urllib.request.urlopen(req, timeout=90) as resp:
            raw, status, headers = resp.read(), resp.status, resp.headers
    except urllib.error.HTTPError as e:
        raw, status, headers = e.read(), e.code, e.headers
    if status not in expect:
        raise SystemExit("smoke: FAILED %s %s -> HTTP %s %s" % (method, url, status, raw[:500]))
    return status, headers, (json.loads(raw) if raw else None)


def wait(what, fn, timeout=120, interval=0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit("smoke: FAILED waiting for %s (%ds)" % (what, timeout))
        time.sleep(interval)


def lab(*args):
    subprocess.run(["bash", SCRIPT] + list(args), check=True)


def main():
    _, headers, body = request("POST", KEYSTONE + "/auth/tokens", {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": PASSWORD}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}, mv=None)
    token = headers["X-Subject-Token"]
    def endpoint(stype):
        return next(e["url"] for s in body["token"]["catalog"] if s["type"] == stype
                    for e in s["endpoints"] if e["interface"] == "public")

    nova, glance = endpoint("compute"), endpoint("image")
    step("token from Keystone, compute endpoint %s" % nova)

    _, _, versions = request("GET", nova.rsplit("/", 1)[0] + "/", mv=None)
    v21 = next(v for v in versions["versions"] if v["id"] == "v2.1")
    step("compute versions: v2.1 microversions %s..%s" % (v21["min_version"], v21["version"]))

    _, _, body = request("GET", nova + "/os-services?binary=nova-compute", token=token)
    services = {s["host"]: s for s in body["services"]}
    up = sorted(h for h, s in services.items() if s["state"] == "up")
    step("os-services: nova-compute up on %s" % ", ".join(up))
    if len(up) < 3:
        raise SystemExit("smoke: FAILED fewer than 3 computes up")
    _, _, body = request("GET", nova + "/os-hypervisors", token=token)
    step("hypervisors: %s" % ", ".join(sorted(h["hypervisor_hostname"] for h in body["hypervisors"])))

    _, _, body = request("GET", nova + "/flavors", token=token)
    flavor = next(f["id"] for f in body["flavors"] if f["name"] == "m1.tiny")
    _, _, body = request("GET", glance + "/v2/images?name=cirros-fake", token=token, mv=None)
    image = body["images"][0]["id"]

    ids = []
    for i in range(2):
        _, _, body = request("POST", nova + "/servers", {"server": {
            "name": "smoke-%d" % i, "imageRef": image, "flavorRef": flavor,
            "networks": "none", "host": "compute-1"}}, token=token)
        ids.append(body["server"]["id"])

    def server(sid):
        return request("GET", "%s/servers/%s" % (nova, sid), token=token)[2]["server"]

    def all_active():
        states = [server(s) for s in ids]
        if any(s["status"] == "ERROR" for s in states):
            raise SystemExit("smoke: FAILED a server went to ERROR: %s" % states[0].get("fault"))
        return all(s["status"] == "ACTIVE" for s in states) and states

    states = wait("servers ACTIVE", all_active)
    step("2 servers booted on %s, ACTIVE" % states[0]["OS-EXT-SRV-ATTR:host"])

    lab("compute", "kill", "1")
    t_kill = time.monotonic()
    step("compute kill 1")
    svc = services["compute-1"]
    request("PUT", "%s/os-services/%s" % (nova, svc["id"]), {"forced_down": True}, token=token)
    step("compute-1 forced down (2.53)")
    for sid in ids:
        request("POST", "%s/servers/%s/action" % (nova, sid), {"evacuate": {}}, token=token)
    step("evacuate requested for 2 servers")

    def evacuated():
        states = [server(s) for s in ids]
        if any(s["status"] == "ERROR" for s in states):
            raise SystemExit("smoke: FAILED evacuated server in ERROR: %s" % states[0].get("fault"))
        ok = all(s["status"] == "ACTIVE" and s["OS-EXT-SRV-ATTR:host"] != "compute-1"
                 for s in states)
        return ok and states

    states = wait("evacuation", evacuated)
    step("servers ACTIVE on %s (%.1fs after the kill)" % (
        ", ".join(sorted({s["OS-EXT-SRV-ATTR:host"] for s in states})), time.monotonic() - t_kill))

    # Nova refuses to lift forced_down while `done` evacuation records remain: the
    # returning compute first destroys the evacuated copies and completes them.
    lab("compute", "start", "1")

    def migrations_done():
        body = request("GET", nova + "/os-migrations?migration_type=evacuation&source_compute=compute-1",
                       token=token)[2]
        mine = [m for m in body["migrations"] if m["instance_uuid"] in ids]
        return len(mine) == len(ids) and all(m["status"] == "completed" for m in mine) and mine

    wait("evacuation migrations completed", migrations_done, timeout=90)
    step("compute-1 restarted, evacuation migrations completed")
    request("PUT", "%s/os-services/%s" % (nova, svc["id"]), {"forced_down": False}, token=token)

    def compute1_up():
        body = request("GET", nova + "/os-services?binary=nova-compute&host=compute-1",
                       token=token)[2]
        return body["services"][0]["state"] == "up"

    wait("compute-1 up", compute1_up)
    step("compute-1 forced_down unset, up")

    for sid in ids:
        request("DELETE", "%s/servers/%s" % (nova, sid), token=token)

    def gone():
        return all(request("GET", "%s/servers/%s" % (nova, s), token=token,
                           expect=(200, 404))[0] == 404 for s in ids)

    wait("servers deleted", gone)
    step("servers deleted")
    print("smoke: OK")


if __name__ == "__main__":
    main()
