# SPDX-License-Identifier: Apache-2.0
"""Drives Regatta's scheduler with the unmodified `marathon` PyPI client (marathon-python), as an operator's
tooling would: every call must succeed and parse into the client's models (which refuse unknown fields).

Usage: marathon_client.py <scheduler url> [--skip-events]
Prints `ok: <step>` per step and `ALL OK` at the end; exits non-zero on the first failure."""
import collections
import collections.abc
import queue
import signal
import sys
import threading
import time
import traceback

from marathon import MarathonClient, MarathonApp
from marathon.exceptions import ConflictError, MarathonHttpError, NotFoundError
from marathon.models import MarathonDeployment, MarathonInfo, MarathonQueueItem, MarathonTask
from marathon.models.app import MarathonTaskStats
from marathon.models.deployment import MarathonDeploymentPlan
from marathon.models.events import (
    MarathonApiPostEvent, MarathonDeploymentInfo, MarathonEventStreamAttached, MarathonStatusUpdateEvent,
)

# marathon-python 0.13 targets Python 3.6/3.7 and serializes nested models through `collections.Iterable`, an alias
# Python 3.10 removed: restore the alias (the client's code stays as published).
if not hasattr(collections, "Iterable"):
    collections.Iterable = collections.abc.Iterable

URL = sys.argv[1]
SKIP_EVENTS = "--skip-events" in sys.argv
APP = "/mc-test"
BIG = "/mc-big"
client = MarathonClient(URL, timeout=15)


def ok(step):
    print(f"ok: {step}", flush=True)


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def eventually(probe, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except Exception as error:  # the API may answer 409/404 while a deployment settles
            last = error
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def deployments_done(app_id):
    eventually(lambda: not [d for d in client.list_deployments() if app_id in (d.affected_apps or [])],
               f"the deployments of {app_id} to finish")


def running_tasks(app_id):
    return [t for t in client.list_tasks(app_id) if t.state == "TASK_RUNNING"]


def wait_running(app_id, count):
    return eventually(lambda: (lambda tasks: tasks if len(tasks) == count else None)(running_tasks(app_id)),
                      f"{count} running task(s) of {app_id}")


class EventListener:
    """Reads `/v2/events` through the client's own `event_stream` on a daemon thread."""

    def __init__(self, event_types):
        self.events = queue.Queue()
        self.seen = []
        thread = threading.Thread(target=self.listen, args=(event_types,), daemon=True)
        thread.start()

    def listen(self, event_types):
        try:
            for event in client.event_stream(event_types=event_types):
                self.events.put(event)
        except Exception as error:
            self.events.put(error)

    def wait_for(self, predicate, what, timeout=60.0):
        for event in self.seen:
            if predicate(event):
                return event
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if isinstance(event, Exception):
                raise AssertionError(f"the event stream failed: {event!r}")
            self.seen.append(event)
            if predicate(event):
                return event
        raise AssertionError(f"no {what} event within {timeout}s; saw {[type(e).__name__ for e in self.seen]}")


def main():
    # Basics: ping, info, leader
    check(client.ping().strip() == b"pong", "ping answers pong")
    ok("ping")
    info = client.get_info()
    check(isinstance(info, MarathonInfo), "get_info parses into MarathonInfo")
    check(info.elected is True and info.leader, f"info names an elected leader: {info.leader!r}")
    check(info.marathon_config.hostname and info.marathon_config.mesos_role, "info has marathon_config")
    check(info.http_config.http_port, "info has http_config.http_port")
    ok("get_info")
    check(client.get_leader().get("leader") == info.leader, "get_leader agrees with get_info")
    ok("get_leader")
    check(isinstance(client.get_metrics().get("gauges"), dict), "get_metrics has gauges")
    ok("get_metrics")

    listener = None
    if not SKIP_EVENTS:
        listener = EventListener([MarathonEventStreamAttached, MarathonApiPostEvent, MarathonDeploymentInfo,
                                  MarathonStatusUpdateEvent])
        attached = listener.wait_for(lambda e: isinstance(e, MarathonEventStreamAttached), "event_stream_attached")
        check(attached.remote_address, "event_stream_attached names the remote address")
        ok("event_stream attached")

    # Create
    created = client.create_app(APP, MarathonApp(cmd="sleep 1000", cpus=0.1, mem=16, instances=1))
    check(isinstance(created, MarathonApp), "create_app returns a MarathonApp")
    check(created.id == APP and created.cmd == "sleep 1000" and created.instances == 1, f"created app: {created}")
    check(created.deployments and created.deployments[0].id, "the created app names its deployment")
    ok("create_app")
    try:
        client.create_app(APP, MarathonApp(cmd="sleep 1000", cpus=0.1, mem=16))
        raise AssertionError("a duplicate app was accepted")
    except ConflictError:
        ok("create_app duplicate raises ConflictError")
    try:
        client.create_app("/mc-bad", MarathonApp(cmd="sleep 1", cpus=0, mem=16, instances=-1))
        raise AssertionError("an invalid app was accepted")
    except MarathonHttpError as error:
        check(error.status_code == 422 and error.error_details, f"422 with details: {error!r}")
        ok("create_app invalid raises 422 with details")

    first_task = wait_running(APP, 1)[0]
    check(isinstance(first_task, MarathonTask) and first_task.started_at is not None, "a started MarathonTask")
    check(first_task.ports and first_task.service_ports and first_task.host, f"task ports and host: {first_task}")
    deployments_done(APP)
    ok("task running")

    # List and get, with every embed the client knows
    apps = client.list_apps()
    check([a.id for a in apps].count(APP) == 1, "list_apps lists the app")
    listed = client.list_apps(embed_tasks=True, embed_counts=True, embed_deployments=True, embed_readiness=True,
                              embed_last_task_failure=True, embed_failures=True, embed_task_stats=True)
    app = next(a for a in listed if a.id == APP)
    check(app.tasks_running == 1 and len(app.tasks) == 1, f"embedded counts and tasks: {app.tasks_running}")
    check(isinstance(app.task_stats, MarathonTaskStats), "embedded taskStats parse")
    check(app.task_stats.total_summary.stats.counts.running == 1, "taskStats counts the running task")
    check([a.id for a in client.list_apps(app_id="mc-te")] == [APP], "list_apps filters by id")
    check([a.id for a in client.list_apps(cmd="sleep 1000")] == [APP], "list_apps filters by cmd")
    ok("list_apps")
    got = client.get_app(APP, embed_task_stats=True, embed_readiness=True)
    check(got.id == APP and got.mem == 16 and len(got.tasks) == 1, f"get_app: {got}")
    check(got.version_info.last_config_change_at is not None, "versionInfo parses into datetimes")
    check(got.task_stats.with_latest_config.stats.counts.running == 1, "taskStats withLatestConfig")
    ok("get_app")
    try:
        client.get_app("/mc-nope")
        raise AssertionError("an unknown app was found")
    except NotFoundError:
        ok("get_app unknown raises NotFoundError")

    # Update (cmd and env) with a fresh object, then get-modify-put with the full object
    result = client.update_app(APP, MarathonApp(cmd="sleep 1001", env={"GREETING": "hi"}))
    check(result.get("deploymentId") and result.get("version"), f"update_app returns a deployment: {result}")
    deployments_done(APP)
    updated = client.get_app(APP)
    check(updated.cmd == "sleep 1001" and updated.env.get("GREETING") == "hi", f"update applied: {updated}")
    check(updated.mem == 16 and updated.instances == 1, "fields left out kept their values")
    replaced = wait_running(APP, 1)[0]
    check(replaced.id != first_task.id, "a config change replaced the task")
    ok("update_app")
    whole = client.get_app(APP)
    whole.env["SECOND"] = "2"
    client.update_app(APP, whole)
    deployments_done(APP)
    check(client.get_app(APP).env == {"GREETING": "hi", "SECOND": "2"}, "get-modify-put of the whole app")
    ok("update_app with a fetched app")

    # Scale up and down: scaling restarts nothing
    before = wait_running(APP, 1)[0]
    result = client.scale_app(APP, instances=2)
    check(result.get("deploymentId"), f"scale_app returns a deployment: {result}")
    tasks = wait_running(APP, 2)
    check(before.id in [t.id for t in tasks], "scaling up kept the running task")
    deployments_done(APP)
    client.scale_app(APP, delta=-1)
    wait_running(APP, 1)
    deployments_done(APP)
    check(client.get_app(APP).instances == 1, "scaled back to 1")
    ok("scale_app")

    # Versions and rollback
    versions = client.list_versions(APP)
    check(len(versions) >= 3, f"list_versions: {versions}")
    old = [v for v in versions if client.get_version(APP, v).cmd == "sleep 1000"]
    check(old, "an old version has the original cmd")
    ok("list_versions/get_version")
    result = client.rollback_app(APP, old[0], force=True)
    check(result.get("deploymentId"), f"rollback_app returns a deployment: {result}")
    deployments_done(APP)
    check(client.get_app(APP).cmd == "sleep 1000", "rolled back to the original cmd")
    ok("rollback_app")

    # Restart replaces the task
    before = wait_running(APP, 1)[0]
    result = client.restart_app(APP)
    check(result.get("deploymentId") and result.get("version"), f"restart_app: {result}")
    deployments_done(APP)
    after = wait_running(APP, 1)[0]
    check(after.id != before.id, "restart replaced the task")
    ok("restart_app")

    # Kill tasks three ways; each is replaced
    victim = wait_running(APP, 1)[0]
    killed = client.kill_task(APP, victim.id)
    check(isinstance(killed, MarathonTask) and killed.id == victim.id, f"kill_task returns the task: {killed}")
    eventually(lambda: [t for t in running_tasks(APP) if t.id != victim.id], "a replacement after kill_task")
    ok("kill_task")
    victim = wait_running(APP, 1)[0]
    check(client.kill_given_tasks([victim.id]) is True, "kill_given_tasks succeeds")
    eventually(lambda: [t for t in running_tasks(APP) if t.id != victim.id], "a replacement after kill_given_tasks")
    ok("kill_given_tasks")
    victim = wait_running(APP, 1)[0]
    killed = client.kill_tasks(APP)
    check(isinstance(killed, list) and [t.id for t in killed] == [victim.id], f"kill_tasks returns tasks: {killed}")
    eventually(lambda: [t for t in running_tasks(APP) if t.id != victim.id], "a replacement after kill_tasks")
    ok("kill_tasks")

    tasks = client.list_tasks()
    check(all(isinstance(t, MarathonTask) for t in tasks) and any(t.app_id == APP for t in tasks), "list_tasks")
    ok("list_tasks")
    endpoints = client.list_endpoints()
    check(any(e.app_id == APP and e.service_port and e.task_port for e in endpoints), f"endpoints: {endpoints}")
    ok("list_endpoints")

    # An app no offer fits waits in the queue with its reject reasons
    client.create_app(BIG, MarathonApp(cmd="sleep 1000", cpus=64, mem=16, instances=1))

    def big_item():
        items = [i for i in client.list_queue() if i.app.id == BIG]
        if items and items[0].processed_offers_summary["processedOffersCount"] > 0:
            return items[0]

    item = eventually(big_item, "a queue entry for the big app with processed offers")
    check(isinstance(item, MarathonQueueItem) and item.count == 1, f"queue item: {item}")
    check(item.delay.time_left_seconds is not None and item.delay.overdue is not None, "queue delay")
    steps = {s["reason"]: s for s in item.processed_offers_summary["rejectSummaryLastOffers"]}
    check(steps["InsufficientCpus"]["declined"] >= 1, f"offers were refused for cpus: {steps}")
    check(client.list_queue(embed_last_unused_offers=True), "list_queue with lastUnusedOffers")
    ok("list_queue")
    client.reset_delay(BIG)
    ok("reset_delay")
    deployments = client.list_deployments()
    stuck = [d for d in deployments if BIG in d.affected_apps]
    check(stuck and isinstance(stuck[0], MarathonDeployment), f"list_deployments: {deployments}")
    check(stuck[0].current_actions[0].action == "StartApplication" and stuck[0].steps, "deployment actions")
    ok("list_deployments")
    check(client.delete_deployment(stuck[0].id, force=True) == {}, "delete_deployment force")
    eventually(lambda: not [d for d in client.list_deployments() if d.id == stuck[0].id], "the deployment gone")
    ok("delete_deployment")
    client.delete_app(BIG, force=True)

    if listener:
        posted = listener.wait_for(lambda e: isinstance(e, MarathonApiPostEvent) and e.app_definition["id"] == APP,
                                   "api_post_event for the app")
        check(posted.uri and posted.timestamp, "api_post_event has uri and timestamp")
        info_event = listener.wait_for(lambda e: isinstance(e, MarathonDeploymentInfo), "deployment_info")
        check(isinstance(info_event.plan, MarathonDeploymentPlan) and info_event.plan.steps, "deployment plan parses")
        running = listener.wait_for(lambda e: isinstance(e, MarathonStatusUpdateEvent)
                                    and e.task_status == "TASK_RUNNING" and e.app_id == APP, "status_update_event")
        check(running.task_id and running.slave_id and running.host, f"status update fields: {vars(running)}")
        ok("event_stream events")

    # Delete
    result = client.delete_app(APP)
    check(result.get("deploymentId"), f"delete_app returns a deployment: {result}")

    def gone():
        try:
            client.get_app(APP)
            return False
        except NotFoundError:
            return True

    eventually(gone, "the app to be gone")
    eventually(lambda: not [t for t in client.list_tasks() if t.app_id in (APP, BIG)], "no tasks left")
    ok("delete_app")
    print("ALL OK", flush=True)


if __name__ == "__main__":
    signal.alarm(400)
    try:
        main()
    except Exception:
        traceback.print_exc()
        sys.exit(1)
