# SPDX-License-Identifier: Apache-2.0
"""pymesos subscribing with principal= and secret= (or without): exits 0 once registered. When the master refuses
the subscription pymesos raises its answer ("RuntimeError: Failed with HTTP 401: ...") and the process exits 1;
4 if nothing happens within 20 s."""
import logging
import sys
import threading

from addict import Dict
from pymesos import MesosSchedulerDriver, Scheduler

MASTER = sys.argv[1]
PRINCIPAL = sys.argv[2] if len(sys.argv) > 2 else None
SECRET = sys.argv[3] if len(sys.argv) > 3 else None


class AuthScheduler(Scheduler):
    def __init__(self):
        self.outcome = None
        self.done = threading.Event()

    def registered(self, driver, framework_id, master_info):
        print("registered", framework_id["value"], flush=True)
        self.outcome = 0
        self.done.set()

    def resourceOffers(self, driver, offers):
        driver.declineOffer([offer.id for offer in offers])

    def error(self, driver, message):
        print("error", message, flush=True)
        self.outcome = 3
        self.done.set()


def main():
    logging.basicConfig(level=logging.WARNING)
    scheduler = AuthScheduler()
    framework = Dict(user="root", name="pymesos-auth", hostname="127.0.0.1")
    if PRINCIPAL:
        framework.principal = PRINCIPAL
    driver = MesosSchedulerDriver(
        scheduler, framework, MASTER, use_addict=True, principal=PRINCIPAL, secret=SECRET
    )
    driver.start()
    finished = scheduler.done.wait(20)
    driver.stop()
    if not finished:
        print("no answer", flush=True)
        sys.exit(4)
    sys.exit(scheduler.outcome)


if __name__ == "__main__":
    main()
