# SPDX-License-Identifier: Apache-2.0
"""Drives a scheduler started with --http_credentials with the unmodified `marathon` PyPI client (marathon-python):
with `username`/`password` every call works; without credentials, with a wrong password, or as a read-only user
writing, the client gets Marathon's 401/403.

Usage: marathon_auth.py <scheduler url> <user:password> <read-only user:password>
Prints `ok: <step>` per step and `ALL OK` at the end; exits non-zero on the first failure."""
import collections
import collections.abc
import queue
import sys
import threading
import traceback

from marathon import MarathonClient, MarathonApp
from marathon.exceptions import MarathonHttpError
from marathon.models import MarathonInfo

# marathon-python 0.13 serializes nested models through `collections.Iterable`, which Python 3.10 removed.
if not hasattr(collections, "Iterable"):
    collections.Iterable = collections.abc.Iterable

URL = sys.argv[1]
USER, PASSWORD = sys.argv[2].split(":", 1)
VIEWER, VIEWER_PASSWORD = sys.argv[3].split(":", 1)
APP = "/auth-test"


def ok(step):
    print(f"ok: {step}", flush=True)


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def refused(call, status, what):
    try:
        call()
    except MarathonHttpError as error:
        check(error.status_code == status, f"{what}: expected HTTP {status}, got {error.status_code}")
        check(error.error_message, f"{what}: the {status} has no message")
        return
    raise AssertionError(f"{what}: the call was not refused")


def main():
    admin = MarathonClient(URL, username=USER, password=PASSWORD, timeout=15)
    viewer = MarathonClient(URL, username=VIEWER, password=VIEWER_PASSWORD, timeout=15)
    anonymous = MarathonClient(URL, timeout=15)
    wrong = MarathonClient(URL, username=USER, password=PASSWORD + "-wrong", timeout=15)

    check(anonymous.ping().strip() in (b"pong", "pong", b'"pong"'), "ping is open")
    ok("ping without credentials")
    info = admin.get_info()
    check(isinstance(info, MarathonInfo), "get_info parses")
    check(PASSWORD not in repr(info.json_repr()), "/v2/info shows no secret")
    ok("get_info")
    app = admin.create_app(APP, MarathonApp(cmd="sleep 1000", cpus=0.01, mem=16, instances=0))
    check(app.id == APP, "create_app returns the app")
    ok("create_app")
    check(any(a.id == APP for a in admin.list_apps()), "list_apps has the app")
    ok("list_apps")
    check(viewer.get_app(APP).id == APP, "a read-only user reads the app")
    ok("read-only get_app")
    refused(lambda: viewer.scale_app(APP, instances=1), 403, "a read-only user scales")
    ok("read-only scale_app refused")
    refused(lambda: anonymous.list_apps(), 401, "an anonymous list")
    ok("anonymous list_apps refused")
    refused(lambda: anonymous.create_app("/x", MarathonApp(cmd="true", cpus=0.01, mem=16)), 401, "anonymous create")
    ok("anonymous create_app refused")
    refused(lambda: wrong.get_info(), 401, "a wrong password")
    ok("wrong password refused")
    check(len(admin.list_apps()) == 1, "refused calls created nothing")

    events = queue.Queue()

    def listen():
        try:
            for event in admin.event_stream(event_types=["event_stream_attached"]):
                events.put(event)
                return
        except Exception as error:  # reported below
            events.put(error)

    threading.Thread(target=listen, daemon=True).start()
    first = events.get(timeout=30)
    check(not isinstance(first, Exception), f"event_stream failed: {first!r}")
    ok("event_stream with credentials")

    admin.delete_app(APP, force=True)
    ok("delete_app")
    print("ALL OK", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception:
        traceback.print_exc()
        sys.exit(1)
