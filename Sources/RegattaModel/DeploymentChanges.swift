// SPDX-License-Identifier: Apache-2.0

/// Changes to the stored deployments in progress, written by a ``SchedulerStore`` in one transaction, alone
/// (``SchedulerStore/updateDeployments(_:)``) or together with an app (``SchedulerStore/saveApp(_:deployments:)``,
/// ``SchedulerStore/deleteApp(id:deployments:)``).
///
/// Only the deployments named are touched, so a write costs what changed, not how many deployments exist.
/// Deletes apply before upserts: an id in both ends up stored.
public struct DeploymentChanges: Sendable, Hashable {
    /// Deployments to insert or replace by id; of several with one id, the last wins.
    public var upserts: [Deployment]
    /// Ids of deployments to delete; unknown ids are ignored.
    public var deletes: [String]

    /// Changes that insert or replace `upserts` and delete the deployments with the ids in `deletes`.
    public init(upserts: [Deployment] = [], deletes: [String] = []) {
        self.upserts = upserts
        self.deletes = deletes
    }

    /// Whether these changes change nothing.
    public var isEmpty: Bool { self.upserts.isEmpty && self.deletes.isEmpty }

    /// The deletes that are not upserted again, and the upserts with one entry per id (the last wins), in first-seen
    /// order: what a store writes.
    public var normalized: (upserts: [Deployment], deletes: [String]) {
        var position: [String: Int] = [:]
        var upserts: [Deployment] = []
        upserts.reserveCapacity(self.upserts.count)
        for deployment in self.upserts {
            if let index = position[deployment.id] {
                upserts[index] = deployment
            } else {
                position[deployment.id] = upserts.count
                upserts.append(deployment)
            }
        }
        var seen = Set<String>()
        let deletes = self.deletes.filter { position[$0] == nil && seen.insert($0).inserted }
        return (upserts, deletes)
    }
}
