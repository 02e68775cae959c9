# SPDX-License-Identifier: Apache-2.0
"""An unmodified pymesos scheduler: waits for offers from two agents, launches one command task,
and exits 0 once it has seen TASK_RUNNING then TASK_FINISHED (acknowledged by pymesos itself)."""
import logging
import sys
import threading

from addict import Dict
from pymesos import MesosSchedulerDriver, Scheduler

MASTER = sys.argv[1]
EXPECTED_AGENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 2


class HelloScheduler(Scheduler):
    def __init__(self):
        self.agents = set()
        self.launched = False
        self.states = []
        self.done = threading.Event()

    def registered(self, driver, framework_id, master_info):
        print("registered", framework_id["value"], flush=True)

    def resourceOffers(self, driver, offers):
        for offer in offers:
            self.agents.add(offer.agent_id.value)
        if self.launched or len(self.agents) < EXPECTED_AGENTS:
            driver.declineOffer([offer.id for offer in offers], filters={"refuse_seconds": 1})
            return
        offer = offers[0]
        task = Dict()
        task.task_id.value = "pymesos-hello"
        task.agent_id.value = offer.agent_id.value
        task.name = "hello"
        task.command.value = "echo hello from pymesos && sleep 1"
        task.resources = [
            dict(name="cpus", type="SCALAR", scalar={"value": 0.1}),
            dict(name="mem", type="SCALAR", scalar={"value": 32}),
        ]
        driver.launchTasks(offer.id, [task], filters={"refuse_seconds": 5})
        if len(offers) > 1:
            driver.declineOffer([o.id for o in offers[1:]], filters={"refuse_seconds": 5})
        self.launched = True
        print("offers from agents", sorted(self.agents), flush=True)
        print("launched on", offer.agent_id.value, flush=True)

    def statusUpdate(self, driver, update):
        print("status", update.task_id.value, update.state, flush=True)
        self.states.append(update.state)
        if update.state in ("TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED"):
            self.done.set()


def main():
    logging.basicConfig(level=logging.WARNING)
    scheduler = HelloScheduler()
    framework = Dict(user="root", name="pymesos-compat", hostname="127.0.0.1", failover_timeout=60)
    driver = MesosSchedulerDriver(scheduler, framework, MASTER, use_addict=True)
    driver.start()
    finished = scheduler.done.wait(60)
    driver.stop()
    driver.join()
    print("states", scheduler.states, flush=True)
    if not finished:
        print("timed out", flush=True)
        return 2
    if "TASK_RUNNING" not in scheduler.states or scheduler.states[-1] != "TASK_FINISHED":
        return 1
    if scheduler.states.index("TASK_RUNNING") > scheduler.states.index("TASK_FINISHED"):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
