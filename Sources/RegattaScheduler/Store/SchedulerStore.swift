// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Durable storage for the scheduler's state: apps and their versions, instances, and the framework id.
///
/// Implementations: `PostgresSchedulerStore` and `SQLiteSchedulerStore` in RegattaStore,
/// `InMemorySchedulerStore` in RegattaTestKit. One contract suite runs against all of them.
/// - Important: Every method is atomic: it either applies completely or throws and changes nothing.
public protocol SchedulerStore: Sendable {
    /// Creates the schema or migrates it to the current version. Idempotent.
    func migrate() async throws

    /// All current app definitions, sorted by id.
    func loadApps() async throws -> [AppDefinition]

    /// Stores `app` as the current definition of `app.id` and records it under `app.version`
    /// in the app's version history. `app.version` must be set.
    func saveApp(_ app: AppDefinition) async throws

    /// Removes the app, its version history and all its instances. Removing an unknown app does nothing.
    func deleteApp(id: String) async throws

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

    /// The deployments in progress, as last saved.
    func loadDeployments() async throws -> [Deployment]

    /// Replaces the stored deployments in progress (plans are stored before they run and resumed after a restart).
    func saveDeployments(_ deployments: [Deployment]) async throws
}
