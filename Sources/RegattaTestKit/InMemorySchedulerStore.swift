// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaModel

/// A ``SchedulerStore`` in memory, for unit tests; the contract suite in `RegattaStoreTests` checks that it behaves
/// like `SQLiteSchedulerStore` and `PostgresSchedulerStore`.
///
/// Like the real stores it keeps models as sorted-key JSON and decodes them on load, so a value that does not
/// survive a JSON round trip changes here exactly as it would in a database. Ids and versions sort by UTF-8 bytes,
/// as the databases' binary collations do.
///
/// Differences from the real stores: nothing needs ``migrate()`` first, and errors are ``Failure`` values rather
/// than RegattaStore's `StoreError` (which this module cannot see).
public actor InMemorySchedulerStore: SchedulerStore {
    /// Why a call failed.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// What kind of failure this is.
        public enum Kind: Sendable, Equatable {
            /// ``InMemorySchedulerStore/setFailing(_:)`` simulates an outage (the real stores' `unavailable`).
            case unavailable
            /// The caller passed a value the store cannot save (the real stores' `invalidArgument`).
            case invalidArgument
        }

        /// What kind of failure this is.
        public var kind: Kind
        /// What failed and how to fix it.
        public var message: String

        /// A failure of `kind`, as the store or a harness injecting faults reports it.
        public init(kind: Kind, message: String) {
            self.kind = kind
            self.message = message
        }

        public var description: String { self.message }
    }

    private struct StoredApp: Sendable {
        var version: String
        var definition: Data
    }

    /// Everything stored; shared by the stores made with ``init(sharingDataWith:)``, like a database file.
    private struct Contents: Sendable {
        var apps: [String: StoredApp] = [:]
        /// App id → version → definition.
        var versions: [String: [String: Data]] = [:]
        /// Instance id → (app id, definition).
        var instances: [String: InstanceRow] = [:]
        var frameworkID: String?
        /// Deployment id → definition.
        var deployments: [String: Data] = [:]
        var epoch: Int64?
    }

    private struct InstanceRow: Sendable {
        var appId: String
        var definition: Data
    }

    private let contents: Locked<Contents>
    private var isFailing = false
    /// The epoch this store claimed; every write checks it when set.
    private var claimedEpoch: Int64?

    /// An empty store.
    public init() {
        self.contents = Locked(Contents())
    }

    /// A second store on the same data, as a second scheduler process opening the same database would have: writes
    /// of either are seen by both, and each claims its own leadership epoch.
    public init(sharingDataWith other: InMemorySchedulerStore) {
        self.contents = other.contents
    }

    /// Makes every later call throw a ``Failure`` of kind ``Failure/Kind/unavailable`` (when `true`) or work again
    /// (when `false`). The stored data is kept either way.
    public func setFailing(_ failing: Bool) {
        self.isFailing = failing
    }

    // MARK: SchedulerStore

    public func migrate() async throws {
        try self.checkAvailable()
    }

    public func loadApps() async throws -> [AppDefinition] {
        try self.checkAvailable()
        return try self.contents.value.apps.sorted { Self.precedes($0.key, $1.key) }.map {
            try Self.decode(AppDefinition.self, $0.value.definition)
        }
    }

    public func saveApp(_ app: AppDefinition, deployments: DeploymentChanges) async throws {
        try self.checkAvailable()
        guard let version = app.version, !version.isEmpty else {
            throw Failure(
                kind: .invalidArgument,
                message: "App '\(app.id)' has no version; set `version` (an ISO 8601 timestamp) before saving it."
            )
        }
        let definition = try Self.encode(app)
        let changes = try Self.encode(deployments)
        try self.write { contents in
            contents.apps[app.id] = StoredApp(version: version, definition: definition)
            contents.versions[app.id, default: [:]][version] = definition
            // The newest versions, and those a stored instance still runs (SchedulerStoreLimits), as the real stores.
            let history = contents.versions[app.id] ?? [:]
            if history.count > SchedulerStoreLimits.maximumVersionsPerApp {
                let running = Set(
                    contents.instances.values.filter { $0.appId == app.id }
                        .compactMap { try? Self.decode(Instance.self, $0.definition).version }
                )
                let newest = history.keys.sorted { Self.precedes($1, $0) }
                    .prefix(SchedulerStoreLimits.maximumVersionsPerApp)
                let keep = Set(newest).union(running)
                contents.versions[app.id] = history.filter { keep.contains($0.key) }
            }
            changes(&contents)
        }
    }

    public func deleteApp(id: String, deployments: DeploymentChanges) async throws {
        try self.checkAvailable()
        let changes = try Self.encode(deployments)
        try self.write { contents in
            contents.apps[id] = nil
            contents.versions[id] = nil
            contents.instances = contents.instances.filter { $0.value.appId != id }
            changes(&contents)
        }
    }

    public func appVersions(id: String) async throws -> [String] {
        try self.checkAvailable()
        return (self.contents.value.versions[id] ?? [:]).keys.sorted { Self.precedes($1, $0) }
    }

    public func appVersion(id: String, version: String) async throws -> AppDefinition? {
        try self.checkAvailable()
        return try self.contents.value.versions[id]?[version].map { try Self.decode(AppDefinition.self, $0) }
    }

    public func loadInstances() async throws -> [Instance] {
        try self.checkAvailable()
        return try self.contents.value.instances.sorted { Self.precedes($0.key, $1.key) }.map {
            try Self.decode(Instance.self, $0.value.definition)
        }
    }

    public func saveInstances(_ instances: [Instance]) async throws {
        try self.checkAvailable()
        // Encode everything first so a failure leaves the store unchanged, as a rolled-back transaction would.
        let encoded = try instances.map { ($0.id, InstanceRow(appId: $0.appId, definition: try Self.encode($0))) }
        try self.write { contents in
            for (id, row) in encoded {
                contents.instances[id] = row
            }
        }
    }

    public func deleteInstances(ids: [String]) async throws {
        try self.checkAvailable()
        try self.write { contents in
            for id in ids {
                contents.instances[id] = nil
            }
        }
    }

    public func frameworkID() async throws -> FrameworkID? {
        try self.checkAvailable()
        return self.contents.value.frameworkID.map { FrameworkID($0) }
    }

    public func setFrameworkID(_ id: FrameworkID) async throws {
        try self.checkAvailable()
        try self.write { $0.frameworkID = id.value }
    }

    public func loadDeployments() async throws -> [Deployment] {
        try self.checkAvailable()
        return try self.contents.value.deployments.sorted { Self.precedes($0.key, $1.key) }.map {
            try Self.decode(Deployment.self, $0.value)
        }
    }

    public func updateDeployments(_ changes: DeploymentChanges) async throws {
        try self.checkAvailable()
        guard !changes.isEmpty else { return }
        try self.write(try Self.encode(changes))
    }

    public func claimLeadership(epoch: Int64) async throws {
        try self.checkAvailable()
        try self.contents.withLock { contents in
            if let stored = contents.epoch, stored > epoch {
                throw LeadershipFencedError(ownEpoch: epoch, storedEpoch: stored)
            }
            contents.epoch = epoch
        }
        self.claimedEpoch = epoch
    }

    public func leadershipEpoch() async throws -> Int64? {
        try self.checkAvailable()
        return self.contents.value.epoch
    }

    /// Encodes deployment changes first, so an encoding failure changes nothing, and returns how to apply them.
    private static func encode(_ changes: DeploymentChanges) throws -> (inout Contents) -> Void {
        let (upserts, deletes) = changes.normalized
        let rows = try upserts.map { ($0.id, try Self.encode($0)) }
        return { contents in
            for id in deletes { contents.deployments[id] = nil }
            for (id, definition) in rows { contents.deployments[id] = definition }
        }
    }

    /// Applies `change` atomically, unless another store claimed a larger epoch than this one's.
    private func write(_ change: (inout Contents) -> Void) throws {
        let epoch = self.claimedEpoch
        try self.contents.withLock { contents in
            if let epoch, let stored = contents.epoch, stored > epoch {
                throw LeadershipFencedError(ownEpoch: epoch, storedEpoch: stored)
            }
            change(&contents)
        }
    }

    // MARK: Helpers

    private func checkAvailable() throws {
        guard !self.isFailing else {
            throw Failure(
                kind: .unavailable,
                message: "The in-memory scheduler store is failing on purpose; call setFailing(false) to restore it."
            )
        }
    }

    /// Byte-wise order, matching SQLite's BINARY and PostgreSQL's "C" collation.
    private static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }

    private static func encode<Model: Encodable>(_ model: Model) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(model)
        } catch {
            throw Failure(
                kind: .invalidArgument,
                message: "\(Model.self) cannot be encoded as JSON (\(error)); remove non-finite numbers and retry."
            )
        }
    }

    private static func decode<Model: Decodable>(_ type: Model.Type, _ data: Data) throws -> Model {
        try JSONDecoder().decode(type, from: data)
    }
}
