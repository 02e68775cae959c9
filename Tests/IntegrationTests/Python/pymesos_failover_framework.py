# SPDX-License-Identifier: Apache-2.0
"""An unmodified pymesos scheduler given a zk:// master (pymesos finds the leader with kazoo): launches one
long-running task, and after the test kills the leading master, follows the new leader, re-subscribes with the same
framework id, reconciles the task (it must still be TASK_RUNNING, same id), kills it and exits 0 on TASK_KILLED.

Usage: pymesos_failover_framework.py zk://host:port,.../mesos TASK_ID [TIMEOUT_SECONDS]
Prints (flushed) lines the test waits for: "registered", "running", "reregistered", "reconciled", "killed".
"""
import logging
import sys
import threading
import time

from addict import Dict
from pymesos import MesosSchedulerDriver, Scheduler

MASTER = sys.argv[1]
TASK_ID = sys.argv[2]
TIMEOUT = float(sys.argv[3]) if len(sys.argv) > 3 else 180


class FailoverScheduler(Scheduler):
    def __init__(self):
        self.launched = False
        self.running = threading.Event()
        self.reregistered_event = threading.Event()
        self.reconciled = threading.Event()
        self.done = threading.Event()
        self.final_state = None
        self.agent_id = None

    def registered(self, driver, framework_id, master_info):
        print("registered", framework_id["value"], master_info.get("hostname"), master_info.get("port"), flush=True)

    def reregistered(self, driver, master_info):
        print("reregistered", master_info.get("hostname"), master_info.get("port"), flush=True)
        self.reregistered_event.set()

    def disconnected(self, driver):
        print("disconnected", flush=True)

    def resourceOffers(self, driver, offers):
        if self.launched:
            driver.declineOffer([offer.id for offer in offers], filters={"refuse_seconds": 60})
            return
        offer = offers[0]
        task = Dict()
        task.task_id.value = TASK_ID
        task.agent_id.value = offer.agent_id.value
        task.name = "pymesos-ha"
        task.command.value = "sleep 300"
        task.resources = [
            dict(name="cpus", type="SCALAR", scalar={"value": 0.05}),
            dict(name="mem", type="SCALAR", scalar={"value": 16}),
        ]
        driver.launchTasks(offer.id, [task], filters={"refuse_seconds": 60})
        if len(offers) > 1:
            driver.declineOffer([o.id for o in offers[1:]], filters={"refuse_seconds": 60})
        self.launched = True
        self.agent_id = offer.agent_id.value
        print("launched", TASK_ID, "on", offer.agent_id.value, flush=True)

    def statusUpdate(self, driver, update):
        state = update.state
        reason = update.get("reason", "")
        print("status", update.task_id.value, state, reason, flush=True)
        if update.task_id.value != TASK_ID:
            return
        if state == "TASK_RUNNING":
            if not self.running.is_set():
                print("running", TASK_ID, flush=True)
                self.running.set()
            elif self.reregistered_event.is_set() and not self.reconciled.is_set():
                print("reconciled", TASK_ID, state, flush=True)
                self.reconciled.set()
        elif state in ("TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED",
                       "TASK_GONE", "TASK_UNKNOWN"):
            self.final_state = state
            if state == "TASK_KILLED":
                print("killed", TASK_ID, flush=True)
            self.done.set()


def wait(event, deadline):
    return event.wait(max(0.0, deadline - time.time()))


def main():
    logging.basicConfig(level=logging.WARNING)
    deadline = time.time() + TIMEOUT
    scheduler = FailoverScheduler()
    framework = Dict(user="root", name="pymesos-ha", hostname="127.0.0.1", failover_timeout=600)
    driver = MesosSchedulerDriver(scheduler, framework, MASTER, use_addict=True)
    driver.start()
    try:
        if not wait(scheduler.running, deadline):
            print("timed out waiting for TASK_RUNNING", flush=True)
            return 2
        if not wait(scheduler.reregistered_event, deadline):
            print("timed out waiting to re-register with a new master", flush=True)
            return 3
        # The new master learns the task when its agent re-registers: reconcile until it answers TASK_RUNNING.
        while not scheduler.reconciled.is_set() and time.time() < deadline:
            driver.reconcileTasks([dict(task_id=dict(value=TASK_ID))])
            if scheduler.done.is_set():
                break
            scheduler.reconciled.wait(2)
        if not scheduler.reconciled.is_set():
            print("the task was not reconciled as TASK_RUNNING after the failover; final", scheduler.final_state,
                  flush=True)
            return 4
        driver.killTask(dict(value=TASK_ID))
        if not wait(scheduler.done, deadline):
            print("timed out waiting for TASK_KILLED", flush=True)
            return 5
        return 0 if scheduler.final_state == "TASK_KILLED" else 6
    finally:
        driver.stop()
        driver.join()


if __name__ == "__main__":
    sys.exit(main())
