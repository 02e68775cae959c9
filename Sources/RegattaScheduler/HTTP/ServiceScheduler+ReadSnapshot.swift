// SPDX-License-Identifier: Apache-2.0
import Foundation

extension ServiceScheduler {
    /// The state and the scheduler-run health check results in one visit to the actor, for the read endpoints.
    ///
    /// Both are copy-on-write values: the copy costs a few reference counts, and the documents are written from it
    /// off the actor.
    func readSnapshot() -> (state: SchedulerState, healthResults: [String: [HealthCheckResult]]) {
        (self.state, self.healthResults)
    }
}
