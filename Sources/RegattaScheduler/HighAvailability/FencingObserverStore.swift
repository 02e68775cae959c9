// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Passes every call to another ``SchedulerStore`` and reports the first ``LeadershipFencedError`` it sees, so an
/// elected scheduler stops at once when the store says another scheduler took over. Once fenced, every later write
/// fails at once without reaching the store.
public final class FencingObserverStore: SchedulerStore {
    private let base: any SchedulerStore
    private let onFenced: @Sendable (LeadershipFencedError) -> Void
    private let fenced = Locked<LeadershipFencedError?>(nil)

    /// - Parameters:
    ///   - base: the store that does the work.
    ///   - onFenced: called once, with the first fencing error.
    public init(_ base: any SchedulerStore, onFenced: @escaping @Sendable (LeadershipFencedError) -> Void) {
        self.base = base
        self.onFenced = onFenced
    }

    /// The fencing error seen, if any.
    public var fencingError: LeadershipFencedError? { self.fenced.value }

    private func write<T>(_ body: () async throws -> T) async throws -> T {
        if let error = self.fenced.value { throw error }
        do {
            return try await body()
        } catch let error as LeadershipFencedError {
            let first = self.fenced.withLock { stored -> Bool in
                guard stored == nil else { return false }
                stored = error
                return true
            }
            if first { self.onFenced(error) }
            throw error
        }
    }

    public func migrate() async throws { try await self.base.migrate() }
    public func loadApps() async throws -> [AppDefinition] { try await self.base.loadApps() }
    public func saveApp(_ app: AppDefinition, deployments: DeploymentChanges) async throws {
        try await self.write { try await self.base.saveApp(app, deployments: deployments) }
    }
    public func deleteApp(id: String, deployments: DeploymentChanges) async throws {
        try await self.write { try await self.base.deleteApp(id: id, deployments: deployments) }
    }
    public func appVersions(id: String) async throws -> [String] { try await self.base.appVersions(id: id) }
    public func appVersion(id: String, version: String) async throws -> AppDefinition? {
        try await self.base.appVersion(id: id, version: version)
    }
    public func loadInstances() async throws -> [Instance] { try await self.base.loadInstances() }
    public func saveInstances(_ instances: [Instance]) async throws {
        try await self.write { try await self.base.saveInstances(instances) }
    }
    public func deleteInstances(ids: [String]) async throws {
        try await self.write { try await self.base.deleteInstances(ids: ids) }
    }
    public func frameworkID() async throws -> FrameworkID? { try await self.base.frameworkID() }
    public func setFrameworkID(_ id: FrameworkID) async throws {
        try await self.write { try await self.base.setFrameworkID(id) }
    }
    public func loadDeployments() async throws -> [Deployment] { try await self.base.loadDeployments() }
    public func updateDeployments(_ changes: DeploymentChanges) async throws {
        try await self.write { try await self.base.updateDeployments(changes) }
    }
    public func claimLeadership(epoch: Int64) async throws {
        try await self.write { try await self.base.claimLeadership(epoch: epoch) }
    }
    public func leadershipEpoch() async throws -> Int64? { try await self.base.leadershipEpoch() }
}
