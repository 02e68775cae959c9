#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The hostile-input corpus (hostile_cases.py) against the three daemons of one `regatta dev`.

Every case is sent as raw bytes on its own connection (no client library normalises it). After each case every
daemon must still answer (`/health` on master and agent, `/ping` on the scheduler) and the stored state must be
unchanged: the apps of `GET /v2/apps` and the numbers of frameworks and agents in `/master/state`. Besides the
table, a few scenarios need a live session: a subscribed framework sends refusal filters and kill policies with
huge numbers, an agent SUBSCRIBE claims the id of the connected agent, an app with a huge backoff factor fails
repeatedly.

The agent cases need a sandbox: an app is started first whose task makes a FIFO and symlinks to /etc/passwd,
/dev/zero and / in its sandbox. It is part of the baseline state and deleted at the end.

Usage: python hostile_inputs.py REGATTA_BINARY [--only SUBSTRING] [--list]
Exit 0 when every case got its expected answer; cases marked `pending` or `finding` report without failing.
Standard library only.
"""
import argparse
import collections
import http.client
import json
import os
import re
import socket
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_cases  # noqa: E402
from hostile_cases import http as raw_http  # noqa: E402
from regatta_dev import HOST, DevCluster, request  # noqa: E402

SANDBOX_APP = "/hostile-sandbox"
SANDBOX_CMD = ("mkfifo fifo && ln -s /etc/passwd passwd-link && ln -s /dev/zero zero && ln -s / root "
               "&& echo ready && exec sleep 600")


class Context:
    """What the agent cases need to know about the running cluster."""

    def __init__(self, cluster, sandbox):
        self.cluster = cluster
        self.sandbox = sandbox
        self.work_dir = cluster.work_dir

    @staticmethod
    def quote(text):
        return urllib.parse.quote(text, safe="/")


def exchange(port, raw, stream=False, timeout=15.0, cap=4 << 20):
    """Sends `raw` on a new connection and reads the answer.

    Returns (outcome, body bytes, seconds): outcome is the status code, "closed" (no answer before the connection
    ended) or "timeout" (no answer within `timeout`)."""
    started = time.monotonic()
    sock = socket.create_connection((HOST, port), timeout=5)
    sock.settimeout(timeout)

    def send():
        try:
            sock.sendall(raw)
        except OSError:
            pass  # the server answered and closed before reading everything: the answer is what counts

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    data = b""
    outcome = None
    try:
        deadline = started + timeout
        while b"\r\n\r\n" not in data and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        if b"\r\n\r\n" not in data:
            outcome = "closed" if time.monotonic() < deadline else "timeout"
            if data.startswith(b"HTTP/"):
                outcome = int(data.split(b" ", 2)[1])
            return outcome, b"", time.monotonic() - started
        head, _, body = data.partition(b"\r\n\r\n")
        outcome = int(head.split(b" ", 2)[1])
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if stream:
            return outcome, body, time.monotonic() - started
        length = int(headers[b"content-length"]) if b"content-length" in headers else None
        while time.monotonic() < deadline and len(body) < cap:
            if length is not None and len(body) >= length:
                break
            if headers.get(b"transfer-encoding") == b"chunked" and body.endswith(b"0\r\n\r\n"):
                break
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return outcome, body, time.monotonic() - started
    except socket.timeout:
        return (outcome if outcome is not None else "timeout"), b"", time.monotonic() - started
    except (ConnectionResetError, BrokenPipeError):
        if data.startswith(b"HTTP/"):
            return int(data.split(b" ", 2)[1]), data.partition(b"\r\n\r\n")[2], time.monotonic() - started
        return "closed", b"", time.monotonic() - started
    finally:
        sock.close()
        sender.join(timeout=5)


class Corpus:
    def __init__(self, cluster, context):
        self.cluster = cluster
        self.context = context
        self.results = []  # (case name, daemon, verdict, detail)
        self.baseline = self.snapshot()

    def snapshot(self):
        return self.cluster.apps(), self.cluster.master_counts()

    def port(self, daemon):
        return {"master": self.cluster.master, "agent": self.cluster.agent, "scheduler": self.cluster.scheduler}[daemon]

    def record(self, case, problems, detail):
        if case.get("pending"):
            verdict = "PENDING" if problems else "FLIP"
        elif case.get("finding"):
            verdict = "KNOWN" if problems else "FIXED"
        else:
            verdict = "FAIL" if problems else "PASS"
        self.results.append((case["name"], case["daemon"], verdict, "; ".join(problems) or detail, case))

    def after_case(self, case, problems):
        """Every daemon answers (for `watch` seconds) and the state is what it was."""
        watch_until = time.monotonic() + case.get("watch", 0)
        while True:
            dead = self.cluster.alive()
            if dead:
                problems.append(f"daemons down: {dead}")
                return False
            if time.monotonic() >= watch_until:
                break
            time.sleep(1)
        # A refused request changes nothing, but a stream the server still tears down may take a moment.
        deadline = time.monotonic() + 5
        current = self.snapshot()
        while current != self.baseline and time.monotonic() < deadline:
            time.sleep(0.25)
            current = self.snapshot()
        if current != self.baseline:
            apps, counts = current
            base_apps, base_counts = self.baseline
            changed = sorted(set(apps) ^ set(base_apps)) or sorted(k for k in apps if apps[k] != base_apps.get(k))
            problems.append(f"state changed: apps {changed}, (frameworks, agents) {base_counts} -> {counts}")
            self.restore()
        return True

    def restore(self):
        """Deletes apps the baseline does not have and waits (bounded) for the master's counts."""
        for app_id in set(self.cluster.apps()) - set(self.baseline[0]):
            request(self.cluster.scheduler, "DELETE", "/v2/apps" + app_id + "?force=true")
        deadline = time.monotonic() + 30
        while self.snapshot()[1] != self.baseline[1] and time.monotonic() < deadline:
            time.sleep(0.5)
        self.baseline = self.snapshot()

    def run_case(self, case):
        raw = case["build"](self.context) if callable(case["build"]) else case["build"]
        outcome, body, seconds = exchange(self.port(case["daemon"]), raw, stream=case.get("stream", False),
                                          timeout=case.get("within", 15.0) + 1)
        text = body.decode("utf-8", "replace")
        problems = []
        if outcome not in case["expect"]:
            problems.append(f"answered {outcome}, expected {' or '.join(map(str, case['expect']))}")
        if case.get("contains") and outcome in case["expect"] and case["contains"] not in text:
            problems.append(f"body lacks {case['contains']!r}")
        if case.get("excludes") and case["excludes"] in text:
            problems.append(f"body has {case['excludes']!r}")
        if seconds > case.get("within", 15.0):
            problems.append(f"took {seconds:.1f} s (at most {case.get('within', 15.0):.0f} s)")
        if problems:
            problems[-1] += f" — body: {text[:200]!r}"
        self.after_case(case, problems)
        self.record(case, problems, f"{outcome} in {seconds:.2f} s")

    # Scenarios that need a session.

    def framework_session(self):
        """Subscribes a framework (streaming), sends calls with hostile numbers, tears it down."""
        sock = socket.create_connection((HOST, self.cluster.master), timeout=10)
        body = hostile_cases.subscribe_body(',"failover_timeout":0')
        sock.sendall(raw_http("POST", "/api/v1/scheduler", body).replace(b"Connection: close", b"Connection: keep-alive"))
        data = b""
        deadline = time.monotonic() + 10
        while b'"SUBSCRIBED"' not in data and time.monotonic() < deadline:
            data += sock.recv(65536)
        head = data.partition(b"\r\n\r\n")[0].decode()
        stream_id = next((line.split(":", 1)[1].strip() for line in head.split("\r\n")
                          if line.lower().startswith("mesos-stream-id:")), "")
        match = re.search(rb'"framework_id"\s*:\s*\{\s*"value"\s*:\s*"([^"]+)"', data)
        framework_id = match.group(1).decode() if match else ""
        return sock, stream_id, framework_id

    def session_cases(self):
        def call(extra_name, payload, expect, contains=None):
            return dict(name="master/session-" + extra_name, daemon="master", expect=expect, contains=contains,
                        payload=payload)

        calls = [
            call("decline-refuse-1e300", {"type": "DECLINE", "decline": {"offer_ids": [{"value": "none"}],
                                                                         "filters": {"refuse_seconds": 1e300}}},
                 [400], "refuse_seconds"),
            call("decline-refuse-negative", {"type": "DECLINE", "decline": {"offer_ids": [{"value": "none"}],
                                                                            "filters": {"refuse_seconds": -1}}},
                 [400], "refuse_seconds"),
            call("accept-refuse-1e300", {"type": "ACCEPT", "accept": {"offer_ids": [{"value": "none"}], "operations": [],
                                                                      "filters": {"refuse_seconds": 1e300}}},
                 [400], "refuse_seconds"),
            call("kill-grace-negative", {"type": "KILL", "kill": {"task_id": {"value": "none"},
                                                                  "kill_policy": {"grace_period": {"nanoseconds": -1}}}},
                 [400], "grace_period"),
            call("kill-grace-1e300", {"type": "KILL", "kill": {"task_id": {"value": "none"},
                                                               "kill_policy": {"grace_period": {"nanoseconds": 1e300}}}},
                 [400]),
            call("revive-10k-roles", {"type": "REVIVE", "revive": {"roles": [f"r{i}" for i in range(10_000)]}},
                 [202, 400]),
            call("forged-stream-id", {"type": "REVIVE"}, [400, 403]),
        ]
        try:
            sock, stream_id, framework_id = self.framework_session()
        except (OSError, ValueError) as error:
            for case in calls:
                self.record(case, [f"could not subscribe a framework: {error}"], "")
            return
        try:
            if not framework_id or not stream_id:
                raise ValueError("no framework id or stream id in the SUBSCRIBE answer")
            for case in calls:
                payload = dict(case["payload"], framework_id={"value": framework_id})
                headers = [f"Mesos-Stream-Id: {'forged' if 'forged' in case['name'] else stream_id}"]
                outcome, body, seconds = exchange(self.cluster.master,
                                                  raw_http("POST", "/api/v1/scheduler", payload, headers=headers))
                problems = [] if outcome in case["expect"] else [f"answered {outcome}, expected {case['expect']}"]
                text = body.decode("utf-8", "replace")
                if not problems and case["contains"] and case["contains"] not in text:
                    problems.append(f"body lacks {case['contains']!r}: {text[:200]!r}")
                dead = self.cluster.alive()
                if dead:
                    problems.append(f"daemons down: {dead}")
                self.record(case, problems, f"{outcome} in {seconds:.2f} s")
            teardown = raw_http("POST", "/api/v1/scheduler", {"type": "TEARDOWN", "framework_id": {"value": framework_id}},
                                headers=[f"Mesos-Stream-Id: {stream_id}"])
            exchange(self.cluster.master, teardown)
        except (OSError, ValueError) as error:
            self.record(dict(name="master/session", daemon="master"), [f"session failed: {error}"], "")
        finally:
            sock.close()
        end = dict(name="master/session-ends-cleanly", daemon="master")
        problems = []
        self.after_case(end, problems)
        self.record(end, problems, "framework torn down, state as before")

    def agent_impersonation(self):
        """Calls that claim the connected agent's id without its registration token: 403, nothing replaced."""
        status, _, body = request(self.cluster.master, "GET", "/master/state")
        agent = json.loads(body)["slaves"][0]
        agent_id = {"value": agent["id"]}
        calls = [
            ("subscribe", {"type": "SUBSCRIBE", "agent_id": agent_id, "subscribe": {
                "agent_info": {"id": agent_id, "hostname": "impostor", "port": 1,
                               "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 64}}]},
                "tasks": []}}),
            ("update", {"type": "UPDATE", "agent_id": agent_id, "update": {
                "framework_id": {"value": "forged"},
                "status": {"task_id": {"value": "forged"}, "state": "TASK_FAILED", "agent_id": agent_id,
                           "source": "SOURCE_EXECUTOR", "uuid": "AAAAAAAAAAAAAAAAAAAAAA=="}}}),
            ("pong", {"type": "PONG", "agent_id": agent_id}),
        ]
        for name, call in calls:
            case = dict(name=f"master/agent-{name}-impersonation", daemon="master", expect=[403],
                        build=raw_http("POST", "/api/v1/agent", call))
            outcome, body, seconds = exchange(self.cluster.master, case["build"], stream=True)
            problems = [] if outcome == 403 else [
                f"answered {outcome}, expected 403 — body: {body[:200].decode('utf-8', 'replace')!r}"]
            time.sleep(1)
            _, _, state = request(self.cluster.master, "GET", "/master/state")
            after = json.loads(state)["slaves"]
            if len(after) != 1 or after[0].get("hostname") != agent.get("hostname") or after[0].get("active") is False:
                problems.append("the connected agent was replaced or deactivated: "
                                + str([(a.get("hostname"), a.get("active")) for a in after]))
            self.after_case(case, problems)
            self.record(case, problems, f"{outcome} in {seconds:.2f} s")

    def huge_backoff_factor(self):
        """An accepted app with backoffFactor 1e308 whose task fails at once: the scheduler survives the backoff."""
        case = dict(name="scheduler/backoff-factor-1e308-failing-task", daemon="scheduler", expect=[201])
        app = {"id": "/hostile-backoff", "cmd": "exit 1", "cpus": 0.01, "mem": 16, "instances": 1,
               "backoffSeconds": 1, "backoffFactor": 1e308, "maxLaunchDelaySeconds": 3}
        status, _, body = request(self.cluster.scheduler, "POST", "/v2/apps", app)
        problems = [] if status in (201, 422) else [f"answered {status}: {body[:200]!r}"]
        if status == 201:
            deadline = time.monotonic() + 12
            while time.monotonic() < deadline and not self.cluster.alive():
                time.sleep(1)
            _, _, body = request(self.cluster.scheduler, "GET", "/v2/apps/hostile-backoff")
            failures = json.loads(body).get("app", {}).get("lastTaskFailure") if body else None
            if failures is None:
                problems.append("the task never failed (the scenario did not exercise the backoff)")
        dead = self.cluster.alive()
        if dead:
            problems.append(f"daemons down: {dead}")
        else:
            request(self.cluster.scheduler, "DELETE", "/v2/apps/hostile-backoff?force=true")
        self.after_case(case, problems)
        self.record(case, problems, f"{status}; the scheduler survived repeated failures")

    def event_stream_reader(self):
        """`/v2/events` answers and starts with event_stream_attached, read bounded."""
        case = dict(name="scheduler/events-first-frame", daemon="scheduler", expect=[200])
        raw = raw_http("GET", "/v2/events", headers=["Accept: text/event-stream"])
        outcome, body, seconds = exchange(self.cluster.scheduler, raw, stream=True)
        problems = [] if outcome == 200 else [f"answered {outcome}"]
        self.after_case(case, problems)
        self.record(case, problems, f"{outcome} in {seconds:.2f} s")


def start_sandbox_app(cluster):
    """Starts the app whose sandbox the agent cases use; returns the sandbox path."""
    app = {"id": SANDBOX_APP, "cmd": SANDBOX_CMD, "cpus": 0.05, "mem": 16, "instances": 1}
    status, _, body = request(cluster.scheduler, "POST", "/v2/apps", app)
    if status != 201:
        raise RuntimeError(f"creating {SANDBOX_APP} answered {status}: {body[:300]!r}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, _, body = request(cluster.agent, "GET", "/state")
        state = json.loads(body)
        for framework in state.get("frameworks", []):
            for executor in framework.get("executors", []):
                directory = executor.get("directory", "")
                if "hostile-sandbox" in json.dumps(executor) and os.path.exists(os.path.join(directory, "root")):
                    return directory
        time.sleep(0.5)
    raise RuntimeError(f"the {SANDBOX_APP} task did not prepare its sandbox in 60 s:\n{cluster.log_tail()}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("regatta")
    parser.add_argument("--only", help="run only the cases whose name contains this")
    parser.add_argument("--list", action="store_true")
    options = parser.parse_args()
    cases = hostile_cases.all_cases()
    if options.list:
        for case in cases:
            print(case["name"], case["expect"], case.get("pending", case.get("finding", "")))
        return 0
    if options.only:
        cases = [case for case in cases if options.only in case["name"]]

    started = time.monotonic()
    cluster = DevCluster(options.regatta)
    corpus = None
    exit_code = None
    setup_error = None
    try:
        cluster.wait_ready()
        sandbox = start_sandbox_app(cluster)
        corpus = Corpus(cluster, Context(cluster, sandbox))
        for case in cases:
            corpus.run_case(case)
            if cluster.process.poll() is not None:
                break
        if not options.only and cluster.process.poll() is None:
            corpus.event_stream_reader()
            corpus.session_cases()
            corpus.huge_backoff_factor()
            corpus.agent_impersonation()
        cluster.delete_all_apps()
    except (RuntimeError, OSError, ValueError, http.client.HTTPException) as error:
        setup_error = f"{type(error).__name__}: {error}"
    finally:
        exit_code = cluster.stop()

    results = corpus.results if corpus else []
    per_daemon = collections.Counter(daemon for _, daemon, _, _, _ in results)
    verdicts = collections.Counter(verdict for _, _, verdict, _, _ in results)
    print(f"hostile inputs: {len(results)} cases in {time.monotonic() - started:.0f} s — "
          + ", ".join(f"{daemon} {count}" for daemon, count in sorted(per_daemon.items())))
    print("verdicts: " + ", ".join(f"{verdict} {count}" for verdict, count in sorted(verdicts.items())))
    for name, daemon, verdict, detail, case in results:
        if verdict == "PASS":
            print(f"  ok: {name}: {detail}")
            continue
        note = case.get("pending") or case.get("finding") or ""
        print(f"{verdict}: {name}: {detail}" + (f"\n    ({note})" if note else ""))
        if verdict in ("FAIL", "KNOWN", "PENDING") and "build" in case:
            raw = case["build"](corpus.context) if callable(case["build"]) else case["build"]
            print(f"    reproducer ({len(raw)} bytes to :{daemon}): {raw[:240]!r}"
                  + (" …" if len(raw) > 240 else "")
                  + f"\n    rerun: python hostile_inputs.py REGATTA --only {name}")
    problems = []
    if setup_error:
        problems.append(f"run stopped: {setup_error}\n{cluster.log_tail()}")
    if exit_code not in (0, -15, 143):
        problems.append(f"regatta dev exited with {exit_code} on SIGTERM:\n{cluster.log_tail()}")
    for problem in problems:
        print(f"FAIL: {problem}")
    failed = verdicts["FAIL"] + len(problems)
    print("ALL OK" if not failed else f"FAILED: {failed}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
