#!/usr/bin/python3
"""Bootstrap helper for the vmkeeper Nova lab (run by hack/nova-lab.sh).

One process does what would otherwise be dozens of `openstack` CLI calls
(~1.5 s each): Keystone projects, users, roles and catalog; the flavor and the
image; an application credential; clouds.yaml; and the wait for the compute
hosts. It only speaks HTTP to the lab's own loopback endpoints through
keystoneauth1 (Debian's python3-keystoneauth1, a dependency of python3-nova).

Subcommands:
  keystone                 service project/users/roles, demo project, catalog
  resources                flavors, image, application credential, clouds.yaml
  wait-computes N TIMEOUT  until compute-1..N are up, enabled, listed as
                           hypervisors, mapped to cell1 and known to Placement
  prune-computes N         delete the Nova services of compute-(N+1).. (down ones)
  finish N TIMEOUT         resources, prune-computes N and wait-computes N in one go
  wait-compute HOST SINCE TIMEOUT
                           until HOST's service reports after epoch SINCE
  services                 print the nova-compute services (for `status`)

Configuration comes from the environment the script exports (VMKEEPER_NOVA_LAB_*).
If a wait times out, the name of the service that did not answer is written to
$VMKEEPER_NOVA_LAB_RUN/failed-service and the exit code is 3.
"""
import json
import os
import sys
import time
import uuid

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

ENV = os.environ
HOST = "127.0.0.1"


def env(name, default=None):
    value = ENV.get("VMKEEPER_NOVA_LAB_" + name, default)
    if value is None:
        sys.exit("bootstrap: VMKEEPER_NOVA_LAB_%s is not set" % name)
    return value


LAB = env("DIR")
RUN = env("RUN", os.path.join(LAB, "run"))
STATE = env("STATE", os.path.join(LAB, "state"))
REGION = env("REGION", "RegionOne")
ADMIN_PASSWORD = env("ADMIN_PASSWORD")
SERVICE_PASSWORD = env("SERVICE_PASSWORD")
DEMO_PASSWORD = env("DEMO_PASSWORD", "vmkeeper-lab-demo")
KEYSTONE = "http://%s:%s" % (HOST, env("KEYSTONE_PORT", "5000"))
NOVA = "http://%s:%s/v2.1" % (HOST, env("NOVA_PORT", "8774"))
PLACEMENT = "http://%s:%s" % (HOST, env("PLACEMENT_PORT", "8778"))
GLANCE = "http://%s:%s" % (HOST, env("GLANCE_PORT", "9292"))
NEUTRON = "http://%s:%s" % (HOST, env("NEUTRON_PORT", "9696"))
NOVA_MV = {"OpenStack-API-Version": "compute 2.53",
           "X-OpenStack-Nova-API-Version": "2.53"}
PLACEMENT_MV = {"OpenStack-API-Version": "placement 1.14"}

IMAGE_NAME = "cirros-fake"
IMAGE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "vmkeeper-nova-lab/" + IMAGE_NAME))
FLAVORS = [  # name, id, vcpus, ram MiB, disk GiB
    ("m1.tiny", "1", 1, 512, 1),
    ("m1.small", "2", 1, 2048, 20),
]

T0 = time.monotonic()


def say(msg):
    print("nova-lab: %s" % msg, flush=True)


class Failed(Exception):
    def __init__(self, service, message):
        super().__init__(message)
        self.service = service


def admin_session():
    auth = v3.Password(auth_url=KEYSTONE + "/v3", username="admin",
                       password=ADMIN_PASSWORD, project_name="admin",
                       user_domain_id="default", project_domain_id="default")
    return ks_session.Session(auth=auth, timeout=30)


def call(sess, method, url, **kw):
    """One request; returns (status, parsed JSON or None). Never raises on HTTP status."""
    kw.setdefault("raise_exc", False)
    resp = sess.request(url, method, **kw)
    try:
        body = resp.json() if resp.content else None
    except ValueError:
        body = None
    return resp.status_code, body


def must(sess, method, url, ok=(200, 201, 202, 204), **kw):
    status, body = call(sess, method, url, **kw)
    if status not in ok:
        raise RuntimeError("%s %s -> HTTP %s: %s" % (method, url, status, body))
    return body


def wait_http(name, url, timeout, sess=None):
    """Wait until url answers anything below 500 (a 401 means the service is up)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if sess is None:
                sess = ks_session.Session(timeout=5)
            resp = sess.get(url, authenticated=False, raise_exc=False, timeout=5)
            if resp.status_code < 500:
                return
            last = "HTTP %s" % resp.status_code
        except ks_exc.ClientException as e:
            last = str(e)
        time.sleep(0.5)
    raise Failed(name, "%s did not answer at %s within %ds (%s)" % (name, url, timeout, last))


# ---------------------------------------------------------------- keystone

def find_one(sess, collection, key, **query):
    q = "&".join("%s=%s" % (k, v) for k, v in query.items())
    body = must(sess, "GET", "%s/v3/%s?%s" % (KEYSTONE, collection, q))
    items = body.get(key, [])
    return items[0] if items else None


def ensure(sess, collection, key, singular, match, create):
    found = find_one(sess, collection, key, **match)
    if found:
        return found
    return must(sess, "POST", "%s/v3/%s" % (KEYSTONE, collection),
                json={singular: create})[singular]


def ensure_user(sess, name, password, project_id):
    user = find_one(sess, "users", "users", name=name, domain_id="default")
    if user is None:
        return must(sess, "POST", KEYSTONE + "/v3/users", json={"user": {
            "name": name, "password": password, "domain_id": "default",
            "default_project_id": project_id, "enabled": True}})["user"]
    # keep the password in step with the script's settings across runs
    must(sess, "PATCH", "%s/v3/users/%s" % (KEYSTONE, user["id"]),
         json={"user": {"password": password, "enabled": True}})
    return user


def grant(sess, project_id, user_id, role_id):
    must(sess, "PUT", "%s/v3/projects/%s/users/%s/roles/%s"
         % (KEYSTONE, project_id, user_id, role_id))


def cmd_keystone():
    sess = admin_session()
    wait_http("keystone", KEYSTONE + "/v3", 60, sess)
    roles = {}
    for name in ("admin", "member", "reader", "service"):
        roles[name] = ensure(sess, "roles", "roles", "role", {"name": name}, {"name": name})["id"]
    service_project = ensure(sess, "projects", "projects", "project",
                             {"name": "service", "domain_id": "default"},
                             {"name": "service", "domain_id": "default",
                              "description": "vmkeeper lab service users"})
    for name in ("nova", "placement", "glance", "neutron"):
        user = ensure_user(sess, name, SERVICE_PASSWORD, service_project["id"])
        grant(sess, service_project["id"], user["id"], roles["admin"])
        grant(sess, service_project["id"], user["id"], roles["service"])
    demo_project = ensure(sess, "projects", "projects", "project",
                          {"name": "demo", "domain_id": "default"},
                          {"name": "demo", "domain_id": "default",
                           "description": "vmkeeper lab non-admin project"})
    demo = ensure_user(sess, "demo", DEMO_PASSWORD, demo_project["id"])
    grant(sess, demo_project["id"], demo["id"], roles["member"])
    admin = find_one(sess, "users", "users", name="admin", domain_id="default")
    grant(sess, demo_project["id"], admin["id"], roles["admin"])

    catalog = [
        ("nova", "compute", NOVA),
        ("placement", "placement", PLACEMENT),
        ("glance", "image", GLANCE),
        ("neutron", "network", NEUTRON),
    ]
    for name, stype, url in catalog:
        svc = ensure(sess, "services", "services", "service", {"type": stype},
                     {"name": name, "type": stype, "enabled": True})
        existing = must(sess, "GET", "%s/v3/endpoints?service_id=%s" % (KEYSTONE, svc["id"]))
        have = {e["interface"]: e for e in existing["endpoints"]}
        for iface in ("public", "internal", "admin"):
            ep = have.get(iface)
            if ep is None:
                must(sess, "POST", KEYSTONE + "/v3/endpoints", json={"endpoint": {
                    "service_id": svc["id"], "interface": iface, "url": url,
                    "region_id": REGION, "enabled": True}})
            elif ep["url"] != url or ep.get("region_id") != REGION:
                must(sess, "PATCH", "%s/v3/endpoints/%s" % (KEYSTONE, ep["id"]),
                     json={"endpoint": {"url": url, "region_id": REGION}})
    say("keystone: service users, demo project and catalog ready (%.1fs)" % (time.monotonic() - T0))


# --------------------------------------------------------------- resources

def ensure_flavors(sess):
    body = must(sess, "GET", NOVA + "/flavors/detail?is_public=None", headers=NOVA_MV)
    have = {f["name"] for f in body["flavors"]}
    for name, fid, vcpus, ram, disk in FLAVORS:
        if name not in have:
            must(sess, "POST", NOVA + "/flavors", headers=NOVA_MV, json={"flavor": {
                "name": name, "id": fid, "vcpus": vcpus, "ram": ram, "disk": disk}})


def ensure_image(sess):
    status, image = call(sess, "GET", "%s/v2/images/%s" % (GLANCE, IMAGE_ID))
    if status == 200 and image.get("status") == "active":
        return
    if status == 200:  # left queued/saving by an interrupted run: start over
        must(sess, "DELETE", "%s/v2/images/%s" % (GLANCE, IMAGE_ID))
    must(sess, "POST", GLANCE + "/v2/images", json={
        "id": IMAGE_ID, "name": IMAGE_NAME, "disk_format": "raw",
        "container_format": "bare", "visibility": "public",
        "min_disk": 0, "min_ram": 0})
    # 1 MiB of zeros: the fake virt driver never reads the image
    must(sess, "PUT", "%s/v2/images/%s/file" % (GLANCE, IMAGE_ID),
         data=b"\0" * (1 << 20), headers={"Content-Type": "application/octet-stream"})


def ensure_app_credential(sess):
    """Create (or reuse) an application credential for admin; returns (id, secret)."""
    path = os.path.join(STATE, "appcred.json")
    user_id = sess.get_user_id()
    base = "%s/v3/users/%s/application_credentials" % (KEYSTONE, user_id)
    try:
        with open(path) as f:
            saved = json.load(f)
        status, _ = call(sess, "GET", "%s/%s" % (base, saved["id"]))
        if status == 200:
            return saved["id"], saved["secret"]
    except (OSError, ValueError, KeyError):
        pass
    body = must(sess, "GET", base + "?name=vmkeeper-lab")
    for cred in body.get("application_credentials", []):
        must(sess, "DELETE", "%s/%s" % (base, cred["id"]))
    cred = must(sess, "POST", base, json={"application_credential": {
        "name": "vmkeeper-lab",
        "description": "vmkeeper Nova lab (admin project, all of admin's roles)"}})[
            "application_credential"]
    tmp = path + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump({"id": cred["id"], "secret": cred["secret"]}, f)
    os.replace(tmp, path)
    return cred["id"], cred["secret"]


def write_clouds_yaml(appcred):
    path = env("CLOUDS_YAML", os.path.join(LAB, "clouds.yaml"))
    auth_url = KEYSTONE + "/v3"
    common = ("    region_name: %s\n    interface: public\n"
              "    identity_api_version: 3\n" % REGION)
    text = ["# vmkeeper Nova lab — written by hack/nova-lab.sh up\n", "clouds:\n"]
    text.append(
        "  vmkeeper-lab:\n    auth_type: password\n    auth:\n"
        "      auth_url: %s\n      username: admin\n      password: %s\n"
        "      project_name: admin\n      user_domain_name: Default\n"
        "      project_domain_name: Default\n" % (auth_url, json.dumps(ADMIN_PASSWORD)) + common)
    text.append(
        "  vmkeeper-lab-demo:\n    auth_type: password\n    auth:\n"
        "      auth_url: %s\n      username: demo\n      password: %s\n"
        "      project_name: demo\n      user_domain_name: Default\n"
        "      project_domain_name: Default\n" % (auth_url, json.dumps(DEMO_PASSWORD)) + common)
    if appcred:
        text.append(
            "  vmkeeper-lab-appcred:\n    auth_type: v3applicationcredential\n    auth:\n"
            "      auth_url: %s\n      application_credential_id: %s\n"
            "      application_credential_secret: %s\n"
            % (auth_url, json.dumps(appcred[0]), json.dumps(appcred[1])) + common)
    tmp = path + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write("".join(text))
    os.replace(tmp, path)
    return path


def cmd_resources():
    sess = admin_session()
    wait_http("nova-api", NOVA + "/", int(env("API_TIMEOUT", "120")), sess)
    ensure_flavors(sess)
    say("flavors m1.tiny, m1.small ready (%.1fs)" % (time.monotonic() - T0))
    wait_http("glance-api", GLANCE + "/versions", int(env("API_TIMEOUT", "120")), sess)
    ensure_image(sess)
    say("image %s (%s) ready (%.1fs)" % (IMAGE_NAME, IMAGE_ID, time.monotonic() - T0))
    appcred = None
    try:
        appcred = ensure_app_credential(sess)
    except Exception as e:  # optional: the password cloud is enough
        say("warning: no application credential (%s)" % e)
    path = write_clouds_yaml(appcred)
    say("clouds.yaml written: %s" % path)


# ----------------------------------------------------------------- computes

def host_mappings():
    """Hosts mapped to a cell, straight from the API database (no API shows this)."""
    import pymysql
    conn = pymysql.connect(host=HOST, port=int(env("MYSQL_PORT", "3306")),
                           user=env("DB_USER", "lab"), password=env("DB_PASSWORD"),
                           database="nova_api", connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT host FROM host_mappings")
            return {row[0] for row in cur.fetchall()}
    finally:
        conn.close()


def compute_services(sess):
    body = must(sess, "GET", NOVA + "/os-services?binary=nova-compute", headers=NOVA_MV)
    return {s["host"]: s for s in body["services"]}


def cmd_wait_computes(count, timeout):
    sess = admin_session()
    wanted = ["compute-%d" % i for i in range(1, count + 1)]
    deadline = time.monotonic() + timeout
    state = {}
    while True:
        missing = []
        try:
            services = compute_services(sess)
            changed = False
            for host in wanted:
                svc = services.get(host)
                # a lab host left forced down or disabled by a test is brought back;
                # enable only once it is up (a disabled trait would linger in Placement)
                if svc and svc.get("forced_down"):
                    # refused (400) while `done` evacuation records remain: the restarted
                    # compute completes them within seconds, so just try again
                    status, body = call(sess, "PUT", "%s/os-services/%s" % (NOVA, svc["id"]),
                                        headers=NOVA_MV, json={"forced_down": False})
                    if status == 200:
                        changed = True
                        say("%s: forced_down unset" % host)
                    else:
                        state[host] = "forced down; unsetting refused: HTTP %s %s" % (status, body)
                elif svc and svc["state"] == "up" and svc["status"] == "disabled":
                    must(sess, "PUT", "%s/os-services/%s" % (NOVA, svc["id"]),
                         headers=NOVA_MV, json={"status": "enabled"})
                    changed = True
                    say("%s: enabled (was disabled: %s)" % (host, svc.get("disabled_reason")))
            if changed:
                services = compute_services(sess)
            hyps = must(sess, "GET", NOVA + "/os-hypervisors", headers=NOVA_MV)["hypervisors"]
            hyp_names = {h["hypervisor_hostname"] for h in hyps}
            rps = must(sess, "GET", PLACEMENT + "/resource_providers",
                       headers=PLACEMENT_MV)["resource_providers"]
            rp_names = {r["name"] for r in rps}
            mapped = host_mappings()
            for host in wanted:
                svc = services.get(host)
                why = []
                if not svc:
                    why.append("no service")
                else:
                    if svc["state"] != "up":
                        why.append("state " + svc["state"])
                    if svc["status"] != "enabled":
                        why.append("status " + svc["status"])
                if host not in hyp_names:
                    why.append("no hypervisor")
                if host not in rp_names:
                    why.append("no resource provider")
                if host not in mapped:
                    why.append("not mapped to a cell")
                if why and svc and svc.get("forced_down") and state.get(host, "").startswith("forced"):
                    why.append(state[host])
                state[host] = ", ".join(why)
                if why:
                    missing.append(host)
        except (ks_exc.ClientException, RuntimeError, OSError) as e:
            missing = wanted
            state = {h: "API error: %s" % e for h in wanted}
        if not missing:
            say("%d computes up, enabled, mapped, in Placement (%.1fs)"
                % (count, time.monotonic() - T0))
            return
        if time.monotonic() >= deadline:
            detail = "; ".join("%s: %s" % (h, state.get(h, "?")) for h in missing)
            raise Failed(missing[0], "computes not ready within %ds: %s" % (timeout, detail))
        time.sleep(1)


def cmd_prune_computes(count):
    sess = admin_session()
    for host, svc in sorted(compute_services(sess).items()):
        if not host.startswith("compute-"):
            continue
        try:
            n = int(host.split("-", 1)[1])
        except ValueError:
            continue
        if n <= count:
            continue
        status, body = call(sess, "DELETE", "%s/os-services/%s" % (NOVA, svc["id"]),
                            headers=NOVA_MV)
        if status in (202, 204, 404):
            say("removed Nova service of %s" % host)
        else:
            say("warning: could not remove the Nova service of %s: HTTP %s %s"
                % (host, status, body))


def cmd_wait_compute(host, since, timeout):
    """Wait until HOST reports to Nova again after a (re)start at epoch SINCE."""
    import datetime
    sess = admin_session()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            svc = compute_services(sess).get(host)
        except (ks_exc.ClientException, RuntimeError) as e:
            svc = None
        if svc and svc["state"] == "up" and svc.get("updated_at"):
            updated = datetime.datetime.fromisoformat(svc["updated_at"]).replace(
                tzinfo=datetime.timezone.utc).timestamp()
            if updated >= since:
                say("%s reports to Nova again (%.1fs)" % (host, time.monotonic() - T0))
                return
        time.sleep(0.5)
    raise Failed(host, "%s did not report to Nova within %ds of its start" % (host, timeout))


def cmd_services():
    sess = admin_session()
    try:
        services = compute_services(sess)
    except Exception as e:
        print("  (nova-api not answering: %s)" % e)
        return
    print("  %-12s %-6s %-9s %-12s %s" % ("host", "state", "status", "forced_down", "updated_at"))
    for host, s in sorted(services.items()):
        print("  %-12s %-6s %-9s %-12s %s" % (host, s["state"], s["status"],
                                             s.get("forced_down"), s.get("updated_at")))


def main(argv):
    if not argv:
        sys.exit(__doc__)
    cmd, args = argv[0], argv[1:]
    try:
        if cmd == "keystone":
            cmd_keystone()
        elif cmd == "resources":
            cmd_resources()
        elif cmd == "wait-computes":
            cmd_wait_computes(int(args[0]), int(args[1]))
        elif cmd == "finish":  # resources + prune-computes + wait-computes, one process
            cmd_resources()
            try:
                cmd_prune_computes(int(args[0]))
            except (RuntimeError, ks_exc.ClientException) as e:
                say("warning: could not prune removed computes: %s" % e)
            cmd_wait_computes(int(args[0]), int(args[1]))
        elif cmd == "prune-computes":
            cmd_prune_computes(int(args[0]))
        elif cmd == "wait-compute":
            cmd_wait_compute(args[0], float(args[1]), int(args[2]))
        elif cmd == "services":
            cmd_services()
        else:
            sys.exit("bootstrap: unknown subcommand %r" % cmd)
    except Failed as e:
        try:
            with open(os.path.join(RUN, "failed-service"), "w") as f:
                f.write(e.service + "\n")
        except OSError:
            pass
        print("nova-lab: error: %s" % e, file=sys.stderr, flush=True)
        return 3
    except (RuntimeError, ks_exc.ClientException) as e:
        print("nova-lab: error: %s: %s" % (cmd, e), file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
