// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Durable storage for the scheduler's state: apps and their versions, instances, and the framework id.
///
/// Implementations: `PostgresSchedulerStore` and `SQLiteSchedulerStore` in RegattaStore,
/// `InMemorySchedulerStore` in RegattaTestKit. One contract suite runs against all of them.
/// - Important: Every method is atomic: it either applies completely or throws and changes nothing.
///
/// Fencing: with several schedulers (`--zk`), each elected leader calls ``claimLeadership(epoch:)`` with its
/// election's sequence before anything else. From then on every write of that store checks, in the same transaction,
/// that no larger epoch has been stored since; if one has (another scheduler took over), the write throws
/// ``LeadershipFencedError`` and changes nothing. A store that never claimed an epoch (one scheduler) writes without
/// checking.
public protocol SchedulerStore: Sendable {
    /// Creates the schema or migrates it to the current version. Idempotent.
    func migrate() async throws

    /// All current app definitions, sorted by id.
    func loadApps() async throws -> [AppDefinition]

    /// Stores `app` as the current definition of `app.id`, records it under `app.version` in the app's version
    /// history and applies `deployments` (as ``updateDeployments(_:)`` does), all in one transaction, so an app is
    /// never stored without the deployment that rolls it out. `app.version` must be set.
    ///
    /// - Important: The history keeps the newest ``SchedulerStoreLimits/maximumVersionsPerApp`` versions, plus any
    ///   older version that a stored instance of the app still runs; older ones are dropped in the same transaction.
    func saveApp(_ app: AppDefinition, deployments: DeploymentChanges) async throws

    /// Removes the app, its version history and all its instances, and applies `deployments` (as
    /// ``updateDeployments(_:)`` does), in one transaction. Removing an unknown app removes nothing, but the
    /// deployment changes still apply. The app's stored deployments are kept unless `deployments` deletes them.
    func deleteApp(id: String, deployments: DeploymentChanges) async throws

    /// The versions stored for an app, newest first; empty for an unknown app.
    func appVersions(id: String) async throws -> [String]

    /// One stored version of an app, or `nil`.
    func appVersion(id: String, version: String) async throws -> AppDefinition?

    /// All stored instances, sorted by id.
    func loadInstances() async throws -> [Instance]

    /// Inserts or replaces instances by id, all in one transaction.
    func saveInstances(_ instances: [Instance]) async throws

    /// Deletes instances by id, all in one transaction; unknown ids are ignored.
    func deleteInstances(ids: [String]) async throws

    /// The framework id the scheduler registered with, or `nil` before the first registration.
    func frameworkID() async throws -> FrameworkID?

    /// Records the framework id.
    func setFrameworkID(_ id: FrameworkID) async throws

    /// The stored deployments in progress, sorted by id.
    func loadDeployments() async throws -> [Deployment]

    /// Changes the stored deployments in progress in one transaction: deletes the deployments with the ids in
    /// `changes.deletes` (unknown ids are ignored), then inserts or replaces `changes.upserts` by id (the last of
    /// several with one id wins). Deployments not named are left as they are. Empty changes write nothing.
    ///
    /// Plans are stored before they run and resumed after a restart.
    func updateDeployments(_ changes: DeploymentChanges) async throws

    /// Records `epoch` as the leadership epoch unless a larger one is stored, and makes every later write of this
    /// store conditional on it (see the fencing note above). Claiming the stored epoch again is allowed.
    ///
    /// - Throws: ``LeadershipFencedError`` if a larger epoch is stored (nothing changes).
    func claimLeadership(epoch: Int64) async throws

    /// The largest leadership epoch claimed so far, or `nil` if none was.
    func leadershipEpoch() async throws -> Int64?
}

extension SchedulerStore {
    /// Stores `app` without changing the stored deployments: ``saveApp(_:deployments:)`` with no changes.
    public func saveApp(_ app: AppDefinition) async throws {
        try await self.saveApp(app, deployments: DeploymentChanges())
    }

    /// Removes the app, its version history and all its instances without changing the stored deployments:
    /// ``deleteApp(id:deployments:)`` with no changes.
    public func deleteApp(id: String) async throws {
        try await self.deleteApp(id: id, deployments: DeploymentChanges())
    }
}

/// Bounds every store keeps, so that nothing an API caller repeats grows the store without limit.
public enum SchedulerStoreLimits {
    /// Versions kept per app: the newest 50 (Marathon's default for `--zk_max_versions`), plus those its stored
    /// instances still run (their health checks are read from them after a restart).
    public static let maximumVersionsPerApp = 50
}
