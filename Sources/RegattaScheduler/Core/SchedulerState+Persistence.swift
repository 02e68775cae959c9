// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// What memory holds that the store does not yet: instances changed after their write (kills decided, health,
/// expunged) and deployments changed. They are written after each operation; a failed write leaves them marked, and
/// the next operation or tick writes them again.
extension SchedulerState {
    /// The differences between memory and store still to be written.
    struct Persistence: Sendable {
        /// Instances changed in memory and not yet written: saved if they still exist, deleted if not.
        var dirtyInstances: Set<String> = []
        /// The deployments as last written to the store, by id.
        var savedDeployments: [String: Deployment] = [:]
        /// Ids of deployments changed in memory since they were last written (or whose write failed); only these are
        /// compared and written, so a change costs what changed, not how many deployments exist.
        var unsavedDeploymentIDs: Set<String> = []

        mutating func instanceChanged(_ id: String) {
            self.dirtyInstances.insert(id)
        }

        /// Notes instances written as they are in memory.
        mutating func instancesWritten(_ ids: some Sequence<String>) {
            guard !self.dirtyInstances.isEmpty else { return }
            for id in ids { self.dirtyInstances.remove(id) }
        }

        mutating func deploymentChanged(_ id: String) {
            self.unsavedDeploymentIDs.insert(id)
        }

        /// Notes deployment changes the store has applied.
        mutating func recordSaved(_ changes: DeploymentChanges) {
            for id in changes.deletes { self.savedDeployments[id] = nil }
            for deployment in changes.upserts { self.savedDeployments[deployment.id] = deployment }
        }
    }

    /// A write of the differences between memory and store.
    struct Housekeeping: Sendable {
        /// The instances written.
        var instances: [String]
        /// The deployments compared (written or found equal).
        var comparedDeployments: Set<String>
        var deploymentChanges: DeploymentChanges
    }

    /// The writes bringing the store in line with memory, if any.
    mutating func housekeepingWrites(_ actions: inout [Action]) -> ([StoreWrite], Housekeeping) {
        var writes: [StoreWrite] = []
        let dirty = self.persistence.dirtyInstances.sorted()
        let saves = dirty.compactMap { self.instances[$0] }
        let deletes = dirty.filter { self.instances[$0] == nil }
        if !saves.isEmpty { writes.append(.saveInstances(saves)) }
        if !deletes.isEmpty { writes.append(.deleteInstances(deletes)) }
        if self.persistence.unsavedDeploymentIDs.isEmpty,
            self.deployments.count != self.persistence.savedDeployments.count
        {
            // Every change of the deployments is marked where it happens; a count that differs means one was missed,
            // so compare them all (never expected; keeps the store right if a new path forgets to mark).
            actions.append(.log(LogRecord(.notice, "Deployments changed without being marked; comparing all of them")))
            self.persistence.unsavedDeploymentIDs = Set(self.persistence.savedDeployments.keys)
                .union(self.deployments.keys)
        }
        var changes = DeploymentChanges()
        for id in self.persistence.unsavedDeploymentIDs.sorted() {
            let current = self.deployments[id]
            guard current != self.persistence.savedDeployments[id] else { continue }
            if let current {
                changes.upserts.append(current)
            } else {
                changes.deletes.append(id)
            }
        }
        if !changes.isEmpty { writes.append(.updateDeployments(changes)) }
        let housekeeping = Housekeeping(
            instances: dirty,
            comparedDeployments: self.persistence.unsavedDeploymentIDs,
            deploymentChanges: changes
        )
        if writes.isEmpty {
            // Everything compared equals the store.
            self.persistence.unsavedDeploymentIDs = []
        }
        return (writes, housekeeping)
    }

    /// Notes what a housekeeping write stored (or that it must be tried again), then completes the operation.
    mutating func housekeepingWritten(
        _ housekeeping: Housekeeping,
        _ outcome: WriteOutcome,
        _ operation: Operation,
        now: Now,
        _ actions: inout [Action]
    ) {
        switch outcome {
        case .succeeded:
            self.persistence.instancesWritten(housekeeping.instances)
            self.persistence.recordSaved(housekeeping.deploymentChanges)
            self.persistence.unsavedDeploymentIDs.subtract(housekeeping.comparedDeployments)
        case .failed(let failure):
            actions.append(
                .log(
                    LogRecord(
                        .warning,
                        "Could not store instance and deployment changes; will retry",
                        ["error": "\(failure)"]
                    )
                )
            )
        }
        self.complete(operation, now: now, &actions)
    }
}
