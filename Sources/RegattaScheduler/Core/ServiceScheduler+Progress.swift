// SPDX-License-Identifier: Apache-2.0

extension ServiceScheduler {
    /// How many instances of `appIDs` are running, and how many instances in all are launched and not yet running
    /// (``SchedulerState/launchesInFlight``): O(apps), for watching a deployment without copying the state.
    public func runningAndInFlight(ofApps appIDs: [String]) -> (running: Int, inFlight: Int) {
        (appIDs.reduce(0) { $0 + self.machine.runningCount(ofApp: $1) }, self.machine.launchesInFlight)
    }
}
