"""Kills `muster serve` (SIGKILL) in the middle of a MIRROR import, twice (once while rows are
applied, once while members are deleted), restarts it on the same data directory, and checks
that the job ends with the report, counters and member state of an uninterrupted run.

usage: kill_restart.py BIN_DIR WORK_DIR ROWS   (ROWS a multiple of 10,000: job counters are
saved every 10 chunks of 1,000 rows, and the second kill waits for all rows to be applied)
Prints one JSON line; exits 1 when the two runs differ or no kill landed mid-job.
"""

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

BIN, WORK, ROWS = sys.argv[1], sys.argv[2], int(sys.argv[3])
MUSTER = os.path.join(BIN, "muster")
COMMUNITIES = [f"Community {i}" for i in range(5)]
ROLES = ["member", "contributor", "administrator"]
HEADER = "matricule,email,first_name,last_name,community,role\n"


def write_files():
    """The base file (rows 0..N) and the mirror file (rows N/2..3N/2, some roles changed)."""
    def row(i, role):
        return f"M{i:07},member{i}@stress.test,First{i},Last{i % 977},{COMMUNITIES[i % 5]},{role}\n"
    base, mirror = os.path.join(WORK, "base.csv"), os.path.join(WORK, "mirror.csv")
    with open(base, "w") as f:
        f.write(HEADER)
        f.writelines(row(i, ROLES[i % 3]) for i in range(ROWS))
    with open(mirror, "w") as f:
        f.write(HEADER)
        f.writelines(row(i, ROLES[(i + (i % 7 == 0)) % 3]) for i in range(ROWS // 2, ROWS * 3 // 2))
    return base, mirror


class Server:
    def __init__(self, data):
        self.data = data
        self.out = open(os.path.join(data + ".log"), "ab")
        self.proc = subprocess.Popen(
            [MUSTER, "serve", "--addr", "127.0.0.1:0", "--data", data],
            stdout=subprocess.PIPE, stderr=self.out)
        line = self.proc.stdout.readline().decode()
        self.url = line[line.index("http://"):].split()[0].rstrip("/")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def cli(*args, data=None):
    extra = ["--data", data] if data else []
    out = subprocess.run([MUSTER, *args, *extra, "--json"], check=True, capture_output=True)
    return json.loads(out.stdout)


def http(method, url, token=None, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


class Tenant:
    def __init__(self, data):
        os.makedirs(data)
        self.data = data
        self.t = cli("tenant", "create", "--name", "stress", data=data)
        for name in COMMUNITIES:
            cli("community", "create", "--tenant", self.t["tenant_id"], "--name", name, data=data)

    def import_cmd(self, server, file, mode, key):
        return [MUSTER, "import", file, "--mode", mode, "--url", server.url, "--json",
                "--client-id", self.t["client_id"], "--client-secret", self.t["client_secret"],
                "--user-id", self.t["admin_user_id"], "--allow-mass-delete", "--idempotency-key", key]

    def import_file(self, server, file, mode, key):
        out = subprocess.run(self.import_cmd(server, file, mode, key), capture_output=True, check=True)
        return json.loads(out.stdout)

    def access_token(self, server):
        basic = base64.b64encode(f"{self.t['client_id']}:{self.t['client_secret']}".encode()).decode()
        return http("POST", f"{server.url}/oauth/token", body=b"grant_type=client_credentials&scope=imports",
                    headers={"authorization": f"Basic {basic}",
                             "content-type": "application/x-www-form-urlencoded"})["access_token"]

    def status(self, server, token, job):
        return http("GET", f"{server.url}/v1/member_provisionings?id={job}&user_id={self.t['admin_user_id']}",
                    token)

    def members(self, server):
        """Every member (a user with an employeeNumber), without ids or timestamps, in order."""
        out, start = [], 1
        ext = "urn:muster:params:scim:schemas:extension:community:2.0:User"
        ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        while True:
            page = http("GET", f"{server.url}{self.t['scim_base_url']}/Users?startIndex={start}&count=1000",
                        self.t["scim_token"])
            users = page.get("Resources", [])
            if not users:
                return sorted(out)
            start += len(users)
            for u in users:
                if not u.get(ent, {}).get("employeeNumber"):
                    continue
                ms = sorted((m.get("display"), m["role"], m["status"])
                            for m in u.get(ext, {}).get("memberships", []))
                out.append(json.dumps([u.get(ent, {}).get("employeeNumber"), u["userName"], u.get("name"), ms]))


def summary(result):
    report = sorted((r["code"], r["operation_data"]["name"], r["operation_data"]["value"]) for r in result["report"])
    job = result["job"]
    return report, [job["state"], job["rows_total"], job["rows_applied"], job["rows_failed"]]


def main():
    os.makedirs(WORK, exist_ok=True)
    base, mirror = write_files()
    # The uninterrupted run.
    clean = Tenant(os.path.join(WORK, "clean"))
    server = Server(clean.data)
    clean.import_file(server, base, "upsert", "base")
    started = time.monotonic()
    clean_result = clean.import_file(server, mirror, "mirror", "mirror")
    clean_seconds = time.monotonic() - started
    clean_state = clean.members(server)
    server.kill()

    # The same, killed twice.
    data = os.path.join(WORK, "cut")
    cut = Tenant(data)
    server = Server(data)
    cut.import_file(server, base, "upsert", "base")
    job = 2
    kills = []
    phases = [
        ("while applying rows", lambda s: s["state"] == "syncing" and 0 < s["rows_applied"] < s["rows_total"]),
        ("while deleting members", lambda s: s["state"] == "syncing" and s["rows_applied"] == s["rows_total"]),
    ]
    follower = subprocess.Popen(cut.import_cmd(server, mirror, "mirror", "mirror"), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
    for name, ready in phases:
        token = cut.access_token(server)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                s = cut.status(server, token, job)
            except Exception:
                s = {"state": "starting", "rows_applied": 0, "rows_total": 0}
            if ready(s) or s["state"] in ("succeeded", "failed"):
                break
            time.sleep(0.005)
        server.kill()
        follower.wait()
        kills.append({"phase": name, "state": s["state"], "rows_applied": s["rows_applied"],
                      "rows_total": s["rows_total"], "mid_job": s["state"] == "syncing"})
        server = Server(data)
        follower = subprocess.Popen(cut.import_cmd(server, mirror, "mirror", "mirror"),
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out, _ = follower.communicate(timeout=1200)
    cut_result = json.loads(out)
    cut_state = cut.members(server)
    server.kill()

    same_report = summary(cut_result) == summary(clean_result)
    same_state = cut_state == clean_state
    if not same_state:
        differ = [(a, b) for a, b in zip(clean_state, cut_state) if a != b][:3]
        print(json.dumps({"first_differences (clean, cut)": differ}), file=sys.stderr)
    ok = same_report and same_state and all(k["mid_job"] for k in kills)
    print(json.dumps({
        "rows": ROWS, "clean_mirror_seconds": round(clean_seconds, 2), "kills": kills,
        "report": summary(clean_result)[0], "same_report_and_counters": same_report,
        "members_compared": len(clean_state), "same_members": same_state, "ok": ok,
    }))
    sys.exit(0 if ok else 1)


main()
