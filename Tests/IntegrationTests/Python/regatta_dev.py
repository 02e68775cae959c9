# SPDX-License-Identifier: Apache-2.0
"""A `regatta dev` cluster for the hostile-input scripts: started in a temporary work dir on free loopback ports,
probed, snapshotted and stopped. Standard library only; every wait is bounded."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def request(port, method, path, body=None, headers=None, timeout=10.0):
    """One HTTP request on a fresh connection: (status, headers dict, body bytes)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json"} if data is not None else {}
        all_headers.update(headers or {})
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


class DevCluster:
    """`regatta dev` with its three daemons; `master`, `agent`, `scheduler` are ports on 127.0.0.1."""

    def __init__(self, regatta, resources="cpus:2;mem:2048;disk:2048;ports:[32000-32099]", keep=False):
        self.regatta = regatta
        self.work_dir = tempfile.mkdtemp(prefix="regatta-hostile-")
        self.master, self.agent, self.scheduler = free_port(), free_port(), free_port()
        self.keep = keep or os.environ.get("REGATTA_KEEP_TEST_DIRS") == "1"
        self.log_path = os.path.join(self.work_dir, "dev.log")
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [regatta, "dev", "--work_dir", self.work_dir, "--master_port", str(self.master),
             "--agent_port", str(self.agent), "--http_port", str(self.scheduler), "--resources", resources],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout=60.0):
        """Waits until the scheduler answers /ping and the master lists one agent and one framework."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"regatta dev exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                ping = request(self.scheduler, "GET", "/ping", timeout=2)
                counts = self.master_counts()
                if ping[0] == 200 and counts == (1, 1):
                    return
            except (OSError, ValueError, http.client.HTTPException):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"regatta dev did not become ready in {timeout:.0f} s:\n{self.log_tail()}")

    def alive(self):
        """Which daemons do not answer their health endpoint (empty when all answer)."""
        dead = []
        if self.process.poll() is not None:
            return [f"regatta dev exited with {self.process.returncode}"]
        for name, port, path in (("master", self.master, "/health"), ("agent", self.agent, "/health"),
                                 ("scheduler", self.scheduler, "/ping")):
            try:
                status, _, _ = request(port, "GET", path, timeout=5)
                if status != 200:
                    dead.append(f"{name} {path} -> {status}")
            except (OSError, http.client.HTTPException) as error:
                dead.append(f"{name} {path} -> {type(error).__name__}: {error}")
        return dead

    def master_counts(self):
        """(frameworks, agents) registered with the master."""
        status, _, body = request(self.master, "GET", "/master/state", timeout=10)
        if status != 200:
            raise ValueError(f"/master/state -> {status}")
        state = json.loads(body)
        return len(state.get("frameworks", [])), len(state.get("slaves", []))

    def apps(self):
        """The stored app definitions by id, without what changes on its own (task counts, deployments)."""
        status, _, body = request(self.scheduler, "GET", "/v2/apps", timeout=10)
        if status != 200:
            raise ValueError(f"/v2/apps -> {status}")
        volatile = {"tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy", "deployments", "tasks",
                    "lastTaskFailure", "taskStats", "readinessCheckResults"}
        return {app["id"]: {k: v for k, v in app.items() if k not in volatile} for app in json.loads(body)["apps"]}

    def delete_all_apps(self, timeout=30.0):
        """Deletes every app (force) and waits, bounded, until none is left."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ids = list(self.apps())
            if not ids:
                return True
            for app_id in ids:
                try:
                    request(self.scheduler, "DELETE", "/v2/apps" + app_id + "?force=true", timeout=10)
                except (OSError, http.client.HTTPException):
                    pass
            time.sleep(0.5)
        return False

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, "rb") as handle:
                return b"\n".join(handle.read().splitlines()[-lines:]).decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, timeout=20.0):
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code (negative: killed by that signal)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()
        code = self.process.returncode
        if not self.keep:
            shutil.rmtree(self.work_dir, ignore_errors=True)
        return code
