// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore
import RegattaModel
import SQLiteNIO

/// A ``SchedulerStore`` in one SQLite file, for single-node mode (`regatta dev`, `--store sqlite:///path`).
///
/// The database runs in WAL mode with `synchronous = FULL`, so a committed call survives a crash of the process
/// or the machine. One connection serves every call, one call at a time; each call is one transaction.
/// The file (and its directory) is created on first use, so nothing runs from `init`.
///
/// - Important: Call ``migrate()`` before anything else. Other processes may open the same file (SQLite locks
///   it); a writer waits up to ``Configuration/busyTimeout`` for another's lock before failing with
///   ``StoreError/Code/unavailable``.
public actor SQLiteSchedulerStore: DurableSchedulerStore {
    /// Where the database lives and how long to wait for locks.
    public struct Configuration: Sendable, Hashable {
        /// The database file. A relative path is resolved against the working directory when the file is opened.
        public var path: String
        /// How long a statement waits for a lock held by another connection. Defaults to `5` seconds.
        public var busyTimeout: Duration

        /// A configuration for the file at `path` with default settings.
        public init(path: String, busyTimeout: Duration = .seconds(5)) {
            self.path = path
            self.busyTimeout = busyTimeout
        }
    }

    private enum State {
        case idle
        case open(SQLiteConnection)
        case closed
    }

    private static let frameworkIDKey = "framework_id"
    /// The kv key of the largest leadership epoch claimed (a decimal integer).
    private static let epochKey = "leadership_epoch"
    /// Rows per multi-row INSERT, well below SQLite's limit of 32,766 bound parameters.
    private static let rowsPerInsert = 300

    /// The store's settings.
    public nonisolated let configuration: Configuration
    private let logger: Logger
    private var state: State = .idle
    /// Whether a call holds the connection; the actor alone cannot serialize calls that suspend mid-transaction.
    private var isBusy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// The epoch this store claimed; every write checks it when set.
    private var claimedEpoch: Int64?

    /// Creates a store for the database file described by `configuration`. Opens nothing yet.
    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: LogKey.backend] = "sqlite"
        logger[metadataKey: LogKey.path] = "\(configuration.path)"
        self.logger = logger
    }

    /// Creates a store for the database file at `path` with default settings. Opens nothing yet.
    public init(path: String, logger: Logger) {
        self.init(configuration: Configuration(path: path), logger: logger)
    }

    // MARK: Lifecycle

    /// Waits until the calling task is cancelled, then closes the database.
    ///
    /// Optional for SQLite: the store opens the file on first use and works without `run()`.
    public nonisolated func run() async throws {
        while !Task.isCancelled {
            // Sleep throws on cancellation, which ends the loop.
            try? await Task.sleep(for: .seconds(3600))
        }
        try await self.close()
    }

    /// Waits for the call in progress, then closes the database. Later calls throw ``StoreError/Code/unavailable``.
    public func close() async throws {
        await self.acquire()
        defer { self.release() }
        guard case .open(let connection) = self.state else {
            self.state = .closed
            return
        }
        self.state = .closed
        do {
            try await connection.closeDespiteCancellation()
            self.logger.debug("Closed SQLite store")
        } catch {
            throw self.storeError(error, "close the database")
        }
    }

    // MARK: SchedulerStore

    public func migrate() async throws {
        try await self.migrate(upTo: nil)
    }

    /// Applies the migrations up to `version` (all with `nil`), as a Regatta that knew only those would. For tests
    /// of later migrations.
    @_spi(Testing)
    public func migrate(upTo version: Int?) async throws {
        let migrations = Self.migrations.filter { migration in version.map { migration.version <= $0 } ?? true }
        try Self.migrations.checkOrdered(backend: "SQLite")
        try await self.serialized("migrate the schema") { connection in
            try await self.transaction(connection, fenced: false) { connection in
                try await connection.execute(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version INTEGER PRIMARY KEY NOT NULL,
                        applied_at TEXT NOT NULL
                    )
                    """
                )
                let rows = try await connection.query("SELECT version FROM schema_migrations")
                let applied = Set(rows.compactMap { $0.column("version")?.integer.map { Int($0) } })
                try Self.migrations.checkNotNewer(than: applied, backend: "SQLite")
            }
            for migration in migrations {
                // BEGIN IMMEDIATE takes the write lock first, so a racing process sees the version recorded.
                let applied = try await self.transaction(connection, fenced: false) { connection in
                    let rows = try await connection.query(
                        "SELECT 1 AS applied FROM schema_migrations WHERE version = ?",
                        [.integer(numericCast(migration.version))]
                    )
                    guard rows.isEmpty else { return false }
                    for statement in migration.statements {
                        try await connection.execute(statement)
                    }
                    try await connection.execute(
                        "INSERT INTO schema_migrations (version, applied_at) "
                            + "VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                        [.integer(numericCast(migration.version))]
                    )
                    return true
                }
                if applied {
                    self.logger.info(
                        "Applied store migration",
                        metadata: [
                            LogKey.migrationVersion: "\(migration.version)", LogKey.migrationName: "\(migration.name)",
                        ]
                    )
                }
            }
        }
    }

    public func loadApps() async throws -> [AppDefinition] {
        try await self.serialized("load apps") { connection in
            let rows = try await connection.query("SELECT id, definition FROM apps ORDER BY id")
            return try rows.map { row in
                let id = try Self.text(row, "id")
                return try ModelCodec.decode(
                    AppDefinition.self,
                    from: try Self.text(row, "definition"),
                    what: "app '\(id)'"
                )
            }
        }
    }

    public func saveApp(_ app: AppDefinition, deployments: DeploymentChanges) async throws {
        let version = try ModelCodec.requireVersion(app)
        let definition = try ModelCodec.encode(app, what: "App '\(app.id)'")
        let changes = try EncodedDeploymentChanges(deployments)
        try await self.serialized("save app '\(app.id)'") { connection in
            try await self.transaction(connection) { connection in
                try await connection.execute(
                    """
                    INSERT INTO apps (id, version, definition) VALUES (?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET version = excluded.version, definition = excluded.definition
                    """,
                    [.text(app.id), .text(version), .text(definition)]
                )
                try await connection.execute(
                    """
                    INSERT INTO app_versions (app_id, version, definition) VALUES (?, ?, ?)
                    ON CONFLICT (app_id, version) DO UPDATE SET definition = excluded.definition
                    """,
                    [.text(app.id), .text(version), .text(definition)]
                )
                // The newest versions, and those a stored instance still runs (SchedulerStoreLimits).
                try await connection.execute(
                    """
                    DELETE FROM app_versions WHERE app_id = ?1
                    AND version NOT IN (
                        SELECT version FROM app_versions WHERE app_id = ?1 ORDER BY version DESC LIMIT ?2)
                    AND version NOT IN (
                        SELECT json_extract(definition, '$.version') FROM instances
                        WHERE app_id = ?1 AND json_extract(definition, '$.version') IS NOT NULL)
                    """,
                    [.text(app.id), .integer(SchedulerStoreLimits.maximumVersionsPerApp)]
                )
                try await Self.apply(changes, connection)
            }
        }
    }

    public func deleteApp(id: String, deployments: DeploymentChanges) async throws {
        let changes = try EncodedDeploymentChanges(deployments)
        try await self.serialized("delete app '\(id)'") { connection in
            try await self.transaction(connection) { connection in
                try await connection.execute("DELETE FROM instances WHERE app_id = ?", [.text(id)])
                try await connection.execute("DELETE FROM app_versions WHERE app_id = ?", [.text(id)])
                try await connection.execute("DELETE FROM apps WHERE id = ?", [.text(id)])
                try await Self.apply(changes, connection)
            }
        }
    }

    public func appVersions(id: String) async throws -> [String] {
        try await self.serialized("load the versions of app '\(id)'") { connection in
            let rows = try await connection.query(
                "SELECT version FROM app_versions WHERE app_id = ? ORDER BY version DESC",
                [.text(id)]
            )
            return try rows.map { try Self.text($0, "version") }
        }
    }

    public func appVersion(id: String, version: String) async throws -> AppDefinition? {
        try await self.serialized("load version '\(version)' of app '\(id)'") { connection in
            let rows = try await connection.query(
                "SELECT definition FROM app_versions WHERE app_id = ? AND version = ?",
                [.text(id), .text(version)]
            )
            guard let row = rows.first else { return nil }
            return try ModelCodec.decode(
                AppDefinition.self,
                from: try Self.text(row, "definition"),
                what: "version '\(version)' of app '\(id)'"
            )
        }
    }

    public func loadInstances() async throws -> [Instance] {
        try await self.serialized("load instances") { connection in
            let rows = try await connection.query("SELECT id, definition FROM instances ORDER BY id")
            return try rows.map { row in
                let id = try Self.text(row, "id")
                return try ModelCodec.decode(
                    Instance.self,
                    from: try Self.text(row, "definition"),
                    what: "instance '\(id)'"
                )
            }
        }
    }

    public func saveInstances(_ instances: [Instance]) async throws {
        let unique = ModelCodec.lastWins(instances)
        guard !unique.isEmpty else { return }
        let encoded = try unique.map { instance in
            (instance, try ModelCodec.encode(instance, what: "Instance '\(instance.id)'"))
        }
        try await self.serialized("save \(unique.count) instances") { connection in
            try await self.transaction(connection) { connection in
                var start = 0
                while start < encoded.count {
                    let chunk = encoded[start..<min(start + Self.rowsPerInsert, encoded.count)]
                    let placeholders = Array(repeating: "(?, ?, ?)", count: chunk.count).joined(separator: ", ")
                    var binds: [SQLiteData] = []
                    binds.reserveCapacity(chunk.count * 3)
                    for (instance, definition) in chunk {
                        binds.append(.text(instance.id))
                        binds.append(.text(instance.appId))
                        binds.append(.text(definition))
                    }
                    try await connection.execute(
                        """
                        INSERT INTO instances (id, app_id, definition) VALUES \(placeholders)
                        ON CONFLICT (id) DO UPDATE SET app_id = excluded.app_id, definition = excluded.definition
                        """,
                        binds
                    )
                    start += chunk.count
                }
            }
        }
    }

    public func deleteInstances(ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        let idArray = try ModelCodec.encode(ids, what: "The instance id list")
        try await self.serialized("delete \(ids.count) instances") { connection in
            try await self.transaction(connection) { connection in
                try await connection.execute(
                    "DELETE FROM instances WHERE id IN (SELECT value FROM json_each(?))",
                    [.text(idArray)]
                )
            }
        }
    }

    public func frameworkID() async throws -> FrameworkID? {
        try await self.value(Self.frameworkIDKey, "load the framework id").map { FrameworkID($0) }
    }

    public func setFrameworkID(_ id: FrameworkID) async throws {
        try await self.setValue(id.value, for: Self.frameworkIDKey, "save the framework id")
    }

    public func loadDeployments() async throws -> [Deployment] {
        try await self.serialized("load the deployments") { connection in
            let rows = try await connection.query("SELECT id, definition FROM deployments ORDER BY id")
            return try rows.map { row in
                let id = try Self.text(row, "id")
                return try ModelCodec.decode(
                    Deployment.self,
                    from: try Self.text(row, "definition"),
                    what: "deployment '\(id)'"
                )
            }
        }
    }

    public func updateDeployments(_ changes: DeploymentChanges) async throws {
        let encoded = try EncodedDeploymentChanges(changes)
        guard !encoded.isEmpty else { return }
        let operation = "save \(changes.upserts.count) and delete \(changes.deletes.count) deployments"
        try await self.serialized(operation) { connection in
            try await self.transaction(connection) { connection in
                try await Self.apply(encoded, connection)
            }
        }
    }

    /// Deployment changes encoded before a transaction starts, so an encoding failure changes nothing.
    private struct EncodedDeploymentChanges {
        /// The ids to delete as a JSON array, or `nil` for none.
        var deletes: String?
        /// Id, app id and definition of each deployment to insert or replace.
        var upserts: [(id: String, appId: String, definition: String)]

        init(_ changes: DeploymentChanges) throws {
            let (upserts, deletes) = changes.normalized
            self.deletes = deletes.isEmpty ? nil : try ModelCodec.encode(deletes, what: "The deployment id list")
            self.upserts = try upserts.map {
                ($0.id, $0.appId, try ModelCodec.encode($0, what: "Deployment '\($0.id)'"))
            }
        }

        var isEmpty: Bool { self.deletes == nil && self.upserts.isEmpty }
    }

    /// Applies deployment changes inside the caller's transaction.
    private static func apply(_ changes: EncodedDeploymentChanges, _ connection: SQLiteConnection) async throws {
        if let deletes = changes.deletes {
            try await connection.execute(
                "DELETE FROM deployments WHERE id IN (SELECT value FROM json_each(?))",
                [.text(deletes)]
            )
        }
        var start = 0
        while start < changes.upserts.count {
            let chunk = changes.upserts[start..<min(start + Self.rowsPerInsert, changes.upserts.count)]
            let placeholders = Array(repeating: "(?, ?, ?)", count: chunk.count).joined(separator: ", ")
            var binds: [SQLiteData] = []
            binds.reserveCapacity(chunk.count * 3)
            for row in chunk {
                binds.append(.text(row.id))
                binds.append(.text(row.appId))
                binds.append(.text(row.definition))
            }
            try await connection.execute(
                """
                INSERT INTO deployments (id, app_id, definition) VALUES \(placeholders)
                ON CONFLICT (id) DO UPDATE SET app_id = excluded.app_id, definition = excluded.definition
                """,
                binds
            )
            start += chunk.count
        }
    }

    public func claimLeadership(epoch: Int64) async throws {
        try await self.serialized("claim leadership epoch \(epoch)") { connection in
            try await self.transaction(connection, fenced: false) { connection in
                if let stored = try await self.storedEpoch(connection), stored > epoch {
                    throw LeadershipFencedError(ownEpoch: epoch, storedEpoch: stored)
                }
                try await connection.execute(
                    "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [.text(Self.epochKey), .text(String(epoch))]
                )
            }
        }
        self.claimedEpoch = epoch
        self.logger.info("Claimed the leadership epoch", metadata: ["store.epoch": "\(epoch)"])
    }

    public func leadershipEpoch() async throws -> Int64? {
        try await self.serialized("load the leadership epoch") { connection in
            try await self.storedEpoch(connection)
        }
    }

    private func storedEpoch(_ connection: SQLiteConnection) async throws -> Int64? {
        let rows = try await connection.query("SELECT value FROM kv WHERE key = ?", [.text(Self.epochKey)])
        guard let row = rows.first else { return nil }
        let value = try Self.text(row, "value")
        guard let epoch = Int64(value) else {
            throw StoreError(
                .corruptData,
                "The stored leadership epoch '\(value)' is not an integer; delete the kv row '\(Self.epochKey)' and "
                    + "restart the schedulers."
            )
        }
        return epoch
    }

    private func value(_ key: String, _ operation: String) async throws -> String? {
        try await self.serialized(operation) { connection in
            let rows = try await connection.query("SELECT value FROM kv WHERE key = ?", [.text(key)])
            guard let row = rows.first else { return nil }
            return try Self.text(row, "value")
        }
    }

    private func setValue(_ value: String, for key: String, _ operation: String) async throws {
        try await self.serialized(operation) { connection in
            try await self.transaction(connection) { connection in
                try await connection.execute(
                    "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [.text(key), .text(value)]
                )
            }
        }
    }

    /// Runs one SQL statement in its own transaction, unfenced. For tests that set up data as older versions left it.
    @_spi(Testing)
    public func execute(testSQL sql: String) async throws {
        try await self.serialized("run a test statement") { connection in
            try await self.transaction(connection, fenced: false) { connection in
                try await connection.execute(sql)
            }
        }
    }

    // MARK: Connection and transactions

    /// Runs `body` with the connection while no other call uses it, mapping every failure to ``StoreError``.
    private func serialized<Result>(
        _ operation: @autoclosure () -> String,
        _ body: (SQLiteConnection) async throws -> Result
    ) async throws -> Result {
        await self.acquire()
        defer { self.release() }
        do {
            let connection = try await self.openConnection()
            return try await body(connection)
        } catch {
            throw self.storeError(error, operation())
        }
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back if anything throws. With `fenced` (every write)
    /// and a claimed epoch, it first checks under the write lock that no larger epoch is stored and throws
    /// ``LeadershipFencedError`` otherwise.
    private func transaction<Result>(
        _ connection: SQLiteConnection,
        fenced: Bool = true,
        _ body: (SQLiteConnection) async throws -> Result
    ) async throws -> Result {
        try await connection.execute("BEGIN IMMEDIATE")
        do {
            if fenced, let epoch = self.claimedEpoch, let stored = try await self.storedEpoch(connection),
                stored > epoch
            {
                throw LeadershipFencedError(ownEpoch: epoch, storedEpoch: stored)
            }
            let result = try await body(connection)
            try await connection.execute("COMMIT")
            return result
        } catch {
            do {
                try await connection.executeDespiteCancellation("ROLLBACK")
            } catch let rollbackError {
                // The connection may be stuck inside the transaction: drop it so the next call starts clean.
                self.logger.warning(
                    "Rollback failed; reopening the SQLite connection",
                    metadata: [LogKey.error: "\(rollbackError)"]
                )
                self.state = .idle
                try? await connection.closeDespiteCancellation()
            }
            throw error
        }
    }

    private func openConnection() async throws -> SQLiteConnection {
        switch self.state {
        case .open(let connection):
            return connection
        case .closed:
            throw StoreError(
                .unavailable,
                "The SQLite store at '\(self.configuration.path)' is closed; create a new store to open it again."
            )
        case .idle:
            break
        }
        let path = self.configuration.path
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError(
                .unavailable,
                "Cannot create the directory '\(directory)' for the SQLite store; check its permissions.",
                cause: error
            )
        }
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: self.logger)
        do {
            let timeout = self.configuration.busyTimeout.components
            let milliseconds = timeout.seconds * 1000 + timeout.attoseconds / 1_000_000_000_000_000
            try await connection.execute("PRAGMA busy_timeout = \(milliseconds)")
            // Switching a new file to WAL needs an exclusive lock and SQLite answers BUSY at once, without the busy
            // timeout, while another connection opens the same file: retry within the timeout.
            let deadline = ContinuousClock.now + self.configuration.busyTimeout
            var mode: String?
            while true {
                do {
                    mode = try await connection.query("PRAGMA journal_mode = WAL").first?.column("journal_mode")?.string
                    break
                } catch let error as SQLiteError where error.reason == .busy && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            if mode?.lowercased() != "wal" {
                self.logger.warning(
                    "SQLite refused WAL mode; writers will block readers",
                    metadata: ["store.journal_mode": "\(mode ?? "unknown")"]
                )
            }
            try await connection.execute("PRAGMA synchronous = FULL")
        } catch {
            try? await connection.closeDespiteCancellation()
            throw error
        }
        self.state = .open(connection)
        self.logger.debug("Opened SQLite store")
        return connection
    }

    private func acquire() async {
        guard self.isBusy else {
            self.isBusy = true
            return
        }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    private func release() {
        if self.waiters.isEmpty {
            self.isBusy = false
        } else {
            // Hand the connection straight to the next waiter; `isBusy` stays set.
            self.waiters.removeFirst().resume()
        }
    }

    // MARK: Errors

    private static func text(_ row: SQLiteRow, _ column: String) throws -> String {
        guard let value = row.column(column)?.string else {
            throw StoreError(.corruptData, "A stored row has no text in column '\(column)'; restore a backup.")
        }
        return value
    }

    private func storeError(_ error: any Error, _ operation: String) -> any Error {
        if error is StoreError || error is CancellationError || error is LeadershipFencedError { return error }
        let path = self.configuration.path
        guard let error = error as? SQLiteError else {
            return StoreError(
                .unavailable,
                "Cannot \(operation) in the SQLite store at '\(path)': \(error).",
                cause: error
            )
        }
        if Self.isUnavailable(error.reason) {
            return StoreError(
                .unavailable,
                "Cannot \(operation): the SQLite database at '\(path)' is unavailable (\(error.reason)); check that "
                    + "the file is readable and writable, the disk has space, and no other process holds a long lock.",
                cause: error
            )
        }
        return StoreError(
            .queryFailed,
            "Cannot \(operation): the SQLite database at '\(path)' rejected the statement (\(error.reason)); "
                + "the file may have been changed by hand or by another program.",
            cause: error
        )
    }

    private static func isUnavailable(_ reason: SQLiteError.Reason) -> Bool {
        switch reason {
        case .busy, .busyInRecovery, .busyInSnapshot, .busyTimeout, .locked, .lockedBySharedCache,
            .lockedVirtualTable, .cantOpen, .cantOpenDirectory, .cantOpenInvalidPath, .cantOpenCygwinPath,
            .cantOpenUnfollowedSymlink, .permission, .readOnly, .readonlyInRecovery, .readonlyCantLock,
            .readonlyInRollback, .readonlyBackingMoved, .readonlyDirectory, .ioError, .ioErrorFailedRead,
            .ioErrorIncompleteRead, .ioErrorFailedWrite, .ioErrorFailedSync, .ioErrorFailedDirSync,
            .ioErrorFailedTruncate, .ioErrorFailedStat, .ioErrorFailedUnlock, .ioErrorFailedReadLock,
            .ioErrorFailedDelete, .ioErrorNoMemory, .ioErrorFailedAccess, .ioErrorFailedLockCheck,
            .ioErrorFailedAdvisoryLock, .ioErrorFailedClose, .ioErrorFailedSharedMemOpen,
            .ioErrorFailedSharedMemSize, .ioErrorFailedSharedMemMap, .ioErrorFailedDeleteNonexistent,
            .ioErrorFailedMemoryMap, .ioErrorCantFindTempdir, .full, .noMemory, .notADatabase, .misuse:
            return true
        default:
            return false
        }
    }
}
