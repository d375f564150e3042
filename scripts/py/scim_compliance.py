"""Runs the scim2-tester compliance checks against a running muster and summarises them.

Usage: scim_compliance.py BASE_URL TOKEN
Exits non-zero when any check ends in ERROR or CRITICAL (or DEVIATION, with --strict).
"""

import collections
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server
from scim2_tester.utils import Status

FAILING = {Status.ERROR, Status.CRITICAL}


def main() -> int:
    url, token = sys.argv[1], sys.argv[2]
    strict = "--strict" in sys.argv[3:]
    failing = FAILING | ({Status.DEVIATION} if strict else set())
    client = SyncSCIMClient(httpx2.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}))
    # Communities are read-only over SCIM by design (administrators create them), so the
    # checker's CRUD cycle, which starts by creating a resource, runs on Users and Groups;
    # discovery checks still cover every resource type and schema.
    results = check_server(client, resource_types=["User", "Group"])
    counts = collections.Counter(r.status.name for r in results)
    for r in results:
        if r.status in failing or r.status == Status.DEVIATION:
            print(f"{r.status.name}: {r.title}: {r.reason}")
    bad = sum(1 for r in results if r.status in failing)
    summary = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()))
    print(f"scim2-tester: {len(results)} checks: {summary}")
    print(f"{len(results) - bad} passed, {bad} failed")
    return 1 if bad or not results else 0


if __name__ == "__main__":
    sys.exit(main())
