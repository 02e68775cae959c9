// SPDX-License-Identifier: Apache-2.0
import Logging
import PostgresNIO
import RegattaCore
import RegattaModel

/// A ``SchedulerStore`` in PostgreSQL, for highly available schedulers (`--store postgres://…`).
///
/// Calls share a pool of connections (``Configuration/maximumConnections``); each call is one transaction.
/// Definitions are stored as `jsonb`. All tables live in ``Configuration/schema``, so several stores (or tests)
/// can share one database.
///
/// - Important: ``run()`` must be running for any call to proceed, and may be called only once. A call that
///   gets no connection within ``Configuration/connectionTimeout`` throws ``StoreError/Code/unavailable``.
public final class PostgresSchedulerStore: DurableSchedulerStore {
    /// The first key of the advisory lock that serializes migrations ("REGA"); the second is the schema's hash.
    private static let migrationLockKey: Int32 = 0x5245_4741
    private static let frameworkIDKey = "framework_id"
    /// The kv key of the largest leadership epoch claimed (a decimal integer).
    private static let epochKey = "leadership_epoch"

    /// The store's settings.
    public let configuration: Configuration
    private let client: PostgresClient
    private let logger: Logger
    /// The schema name, quoted for use in SQL.
    private let schema: String
    /// The epoch this store claimed; every write checks it when set.
    private let claimedEpoch = Locked<Int64?>(nil)

    /// Creates a store and its connection pool. Connects to nothing until ``run()`` starts.
    ///
    /// - Throws: ``StoreError/Code/invalidConfiguration`` when the schema name is not a plain identifier.
    public init(configuration: Configuration, logger: Logger) throws {
        let configuration = try configuration.validated()
        self.configuration = configuration
        self.schema = "\"\(configuration.schema)\""
        var logger = logger
        logger[metadataKey: LogKey.backend] = "postgres"
        logger[metadataKey: LogKey.host] = "\(configuration.host):\(configuration.port)"
        logger[metadataKey: LogKey.schema] = "\(configuration.schema)"
        self.logger = logger

        let tls: PostgresClient.Configuration.TLS
        switch configuration.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        var clientConfiguration = PostgresClient.Configuration(
            host: configuration.host,
            port: configuration.port,
            username: configuration.username,
            password: configuration.password,
            database: configuration.database,
            tls: tls
        )
        clientConfiguration.options.maximumConnections = configuration.maximumConnections
        clientConfiguration.options.connectTimeout = configuration.connectionTimeout
        clientConfiguration.options.additionalStartupParameters = [("application_name", "regatta-scheduler")]
        self.client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
    }

    // MARK: Lifecycle

    /// Runs the connection pool until the calling task is cancelled, then closes every connection.
    public func run() async throws {
        self.logger.debug("Starting PostgreSQL store")
        await self.client.run()
        self.logger.debug("Stopped PostgreSQL store")
    }

    // MARK: SchedulerStore

    public func migrate() async throws {
        try await self.migrate(upTo: nil)
    }

    /// Applies the migrations up to `version` (all with `nil`), as a Regatta that knew only those would. For tests
    /// of later migrations.
    @_spi(Testing)
    public func migrate(upTo version: Int?) async throws {
        let schema = self.schema
        let schemaName = self.configuration.schema
        let known = Self.migrations(schema: schema)
        try known.checkOrdered(backend: "PostgreSQL")
        let migrations = known.filter { migration in version.map { migration.version <= $0 } ?? true }
        let logger = self.logger
        try await self.withConnection("migrate the schema") { connection in
            let applied = try await connection.withTransaction(logger: logger) { connection in
                try await Self.lockMigrations(connection, schemaName: schemaName, logger: logger)
                let exists = try await connection.query(
                    "SELECT 1 FROM pg_namespace WHERE nspname = \(schemaName)",
                    logger: logger
                ).collect()
                if exists.isEmpty {
                    // Only when missing: CREATE SCHEMA needs the CREATE privilege even with IF NOT EXISTS.
                    try await connection.execute(trustedSQL: "CREATE SCHEMA \(schema)", logger: logger)
                }
                try await connection.execute(
                    trustedSQL: """
                        CREATE TABLE IF NOT EXISTS \(schema).schema_migrations (
                            version integer PRIMARY KEY,
                            applied_at timestamptz NOT NULL DEFAULT now()
                        )
                        """,
                    logger: logger
                )
                var versions = Set<Int>()
                let rows = try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT version FROM \(schema).schema_migrations"),
                    logger: logger
                )
                for try await version in rows.decode(Int32.self) {
                    versions.insert(Int(version))
                }
                return versions
            }
            try known.checkNotNewer(than: applied, backend: "PostgreSQL")
            for migration in migrations where !applied.contains(migration.version) {
                let didApply = try await connection.withTransaction(logger: logger) { connection in
                    // Another process may have applied it while this one waited for the lock.
                    try await Self.lockMigrations(connection, schemaName: schemaName, logger: logger)
                    var binds = PostgresBindings()
                    binds.append(Int32(migration.version))
                    let done = try await connection.query(
                        PostgresQuery(
                            unsafeSQL: "SELECT 1 FROM \(schema).schema_migrations WHERE version = $1",
                            binds: binds
                        ),
                        logger: logger
                    ).collect()
                    guard done.isEmpty else { return false }
                    for statement in migration.statements {
                        try await connection.execute(trustedSQL: statement, logger: logger)
                    }
                    try await connection.execute(
                        PostgresQuery(
                            unsafeSQL: "INSERT INTO \(schema).schema_migrations (version) VALUES ($1)",
                            binds: binds
                        ),
                        logger: logger
                    )
                    return true
                }
                if didApply {
                    logger.info(
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
        let sql = "SELECT id, definition::text FROM \(self.schema).apps ORDER BY id"
        let logger = self.logger
        return try await self.withConnection("load apps") { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            var apps: [AppDefinition] = []
            for try await (id, definition) in rows.decode((String, String).self) {
                apps.append(try ModelCodec.decode(AppDefinition.self, from: definition, what: "app '\(id)'"))
            }
            return apps
        }
    }

    public func saveApp(_ app: AppDefinition, deployments: DeploymentChanges) async throws {
        let version = try ModelCodec.requireVersion(app)
        let definition = try ModelCodec.encode(app, what: "App '\(app.id)'")
        var binds = PostgresBindings()
        binds.append(app.id)
        binds.append(version)
        binds.append(definition)
        // The app and its history row in one statement (one round trip).
        let upsertApp = PostgresQuery(
            unsafeSQL: """
                WITH current AS (
                    INSERT INTO \(self.schema).apps (id, version, definition) VALUES ($1, $2, $3::jsonb)
                    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, definition = EXCLUDED.definition
                )
                INSERT INTO \(self.schema).app_versions (app_id, version, definition) VALUES ($1, $2, $3::jsonb)
                ON CONFLICT (app_id, version) DO UPDATE SET definition = EXCLUDED.definition
                """,
            binds: binds
        )
        var pruneBinds = PostgresBindings()
        pruneBinds.append(app.id)
        pruneBinds.append(SchedulerStoreLimits.maximumVersionsPerApp)
        // The newest versions, and those a stored instance still runs (SchedulerStoreLimits).
        let prune = PostgresQuery(
            unsafeSQL: """
                DELETE FROM \(self.schema).app_versions WHERE app_id = $1
                AND version NOT IN (
                    SELECT version FROM \(self.schema).app_versions WHERE app_id = $1 ORDER BY version DESC LIMIT $2)
                AND version NOT IN (
                    SELECT definition->>'version' FROM \(self.schema).instances
                    WHERE app_id = $1 AND definition->>'version' IS NOT NULL)
                """,
            binds: pruneBinds
        )
        let deploymentStatements = try self.deploymentStatements(deployments)
        try await self.transaction("save app '\(app.id)'") { connection, logger in
            try await connection.execute(upsertApp, logger: logger)
            try await connection.execute(prune, logger: logger)
            for statement in deploymentStatements {
                try await connection.execute(statement, logger: logger)
            }
        }
    }

    public func deleteApp(id: String, deployments: DeploymentChanges) async throws {
        var binds = PostgresBindings()
        binds.append(id)
        let statements =
            [
                PostgresQuery(unsafeSQL: "DELETE FROM \(self.schema).instances WHERE app_id = $1", binds: binds),
                PostgresQuery(unsafeSQL: "DELETE FROM \(self.schema).app_versions WHERE app_id = $1", binds: binds),
                PostgresQuery(unsafeSQL: "DELETE FROM \(self.schema).apps WHERE id = $1", binds: binds),
            ] + (try self.deploymentStatements(deployments))
        try await self.transaction("delete app '\(id)'") { connection, logger in
            for statement in statements {
                try await connection.execute(statement, logger: logger)
            }
        }
    }

    public func appVersions(id: String) async throws -> [String] {
        var binds = PostgresBindings()
        binds.append(id)
        let query = PostgresQuery(
            unsafeSQL: "SELECT version FROM \(self.schema).app_versions WHERE app_id = $1 ORDER BY version DESC",
            binds: binds
        )
        let logger = self.logger
        return try await self.withConnection("load the versions of app '\(id)'") { connection in
            var versions: [String] = []
            for try await version in try await connection.query(query, logger: logger).decode(String.self) {
                versions.append(version)
            }
            return versions
        }
    }

    public func appVersion(id: String, version: String) async throws -> AppDefinition? {
        var binds = PostgresBindings()
        binds.append(id)
        binds.append(version)
        let query = PostgresQuery(
            unsafeSQL: "SELECT definition::text FROM \(self.schema).app_versions WHERE app_id = $1 AND version = $2",
            binds: binds
        )
        let logger = self.logger
        return try await self.withConnection("load version '\(version)' of app '\(id)'") { connection in
            for try await definition in try await connection.query(query, logger: logger).decode(String.self) {
                return try ModelCodec.decode(
                    AppDefinition.self,
                    from: definition,
                    what: "version '\(version)' of app '\(id)'"
                )
            }
            return nil
        }
    }

    public func loadInstances() async throws -> [Instance] {
        let sql = "SELECT id, definition::text FROM \(self.schema).instances ORDER BY id"
        let logger = self.logger
        return try await self.withConnection("load instances") { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            var instances: [Instance] = []
            for try await (id, definition) in rows.decode((String, String).self) {
                instances.append(try ModelCodec.decode(Instance.self, from: definition, what: "instance '\(id)'"))
            }
            return instances
        }
    }

    public func saveInstances(_ instances: [Instance]) async throws {
        // ON CONFLICT cannot touch one row twice in a statement, so each id appears once (the last one wins).
        let unique = ModelCodec.lastWins(instances)
        guard !unique.isEmpty else { return }
        var ids: [String] = []
        var appIDs: [String] = []
        var definitions: [String] = []
        ids.reserveCapacity(unique.count)
        appIDs.reserveCapacity(unique.count)
        definitions.reserveCapacity(unique.count)
        for instance in unique {
            ids.append(instance.id)
            appIDs.append(instance.appId)
            definitions.append(try ModelCodec.encode(instance, what: "Instance '\(instance.id)'"))
        }
        var binds = PostgresBindings()
        binds.append(ids)
        binds.append(appIDs)
        binds.append(definitions)
        // One statement for the whole batch: three array parameters unnested into rows.
        let query = PostgresQuery(
            unsafeSQL: """
                INSERT INTO \(self.schema).instances (id, app_id, definition)
                SELECT id, app_id, definition::jsonb FROM unnest($1::text[], $2::text[], $3::text[])
                    AS batch(id, app_id, definition)
                ON CONFLICT (id) DO UPDATE SET app_id = EXCLUDED.app_id, definition = EXCLUDED.definition
                """,
            binds: binds
        )
        try await self.transaction("save \(unique.count) instances") { connection, logger in
            try await connection.execute(query, logger: logger)
        }
    }

    public func deleteInstances(ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        var binds = PostgresBindings()
        binds.append(ids)
        let query = PostgresQuery(
            unsafeSQL: "DELETE FROM \(self.schema).instances WHERE id = ANY($1::text[])",
            binds: binds
        )
        try await self.transaction("delete \(ids.count) instances") { connection, logger in
            try await connection.execute(query, logger: logger)
        }
    }

    public func frameworkID() async throws -> FrameworkID? {
        try await self.value(Self.frameworkIDKey, "load the framework id").map { FrameworkID($0) }
    }

    public func setFrameworkID(_ id: FrameworkID) async throws {
        try await self.setValue(id.value, for: Self.frameworkIDKey, "save the framework id")
    }

    public func loadDeployments() async throws -> [Deployment] {
        let sql = "SELECT id, definition::text FROM \(self.schema).deployments ORDER BY id"
        let logger = self.logger
        return try await self.withConnection("load the deployments") { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            var deployments: [Deployment] = []
            for try await (id, definition) in rows.decode((String, String).self) {
                deployments.append(try ModelCodec.decode(Deployment.self, from: definition, what: "deployment '\(id)'"))
            }
            return deployments
        }
    }

    public func updateDeployments(_ changes: DeploymentChanges) async throws {
        let statements = try self.deploymentStatements(changes)
        guard !statements.isEmpty else { return }
        let operation = "save \(changes.upserts.count) and delete \(changes.deletes.count) deployments"
        try await self.transaction(operation) { connection, logger in
            for statement in statements {
                try await connection.execute(statement, logger: logger)
            }
        }
    }

    /// The statements that apply deployment changes: a delete of the ids not upserted again, then one upsert of
    /// every upserted deployment (array parameters unnested into rows); none for empty changes.
    private func deploymentStatements(_ changes: DeploymentChanges) throws -> [PostgresQuery] {
        let (upserts, deletes) = changes.normalized
        var statements: [PostgresQuery] = []
        if !deletes.isEmpty {
            var binds = PostgresBindings()
            binds.append(deletes)
            statements.append(
                PostgresQuery(
                    unsafeSQL: "DELETE FROM \(self.schema).deployments WHERE id = ANY($1::text[])",
                    binds: binds
                )
            )
        }
        if !upserts.isEmpty {
            var binds = PostgresBindings()
            binds.append(upserts.map(\.id))
            binds.append(upserts.map(\.appId))
            binds.append(try upserts.map { try ModelCodec.encode($0, what: "Deployment '\($0.id)'") })
            statements.append(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO \(self.schema).deployments (id, app_id, definition)
                        SELECT id, app_id, definition::jsonb FROM unnest($1::text[], $2::text[], $3::text[])
                            AS batch(id, app_id, definition)
                        ON CONFLICT (id) DO UPDATE SET app_id = EXCLUDED.app_id, definition = EXCLUDED.definition
                        """,
                    binds: binds
                )
            )
        }
        return statements
    }

    public func claimLeadership(epoch: Int64) async throws {
        var binds = PostgresBindings()
        binds.append(Self.epochKey)
        binds.append(String(epoch))
        // One statement: inserts or raises the epoch, and returns no row when a larger one is stored.
        let claim = PostgresQuery(
            unsafeSQL: """
                INSERT INTO \(self.schema).kv (key, value) VALUES ($1, $2)
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
                WHERE \(self.schema).kv.value::bigint <= EXCLUDED.value::bigint
                RETURNING value
                """,
            binds: binds
        )
        let epochQuery = self.epochQuery(lock: false)
        try await self.transaction("claim leadership epoch \(epoch)", fenced: false) { connection, logger in
            let claimed = try await connection.query(claim, logger: logger).collect()
            if claimed.isEmpty {
                let stored = try await Self.storedEpoch(connection, epochQuery, logger: logger) ?? epoch
                throw LeadershipFencedError(ownEpoch: epoch, storedEpoch: stored)
            }
        }
        self.claimedEpoch.withLock { $0 = epoch }
        self.logger.info("Claimed the leadership epoch", metadata: ["store.epoch": "\(epoch)"])
    }

    public func leadershipEpoch() async throws -> Int64? {
        let query = self.epochQuery(lock: false)
        return try await self.withConnection("load the leadership epoch") { [logger = self.logger] connection in
            try await Self.storedEpoch(connection, query, logger: logger)
        }
    }

    /// Reads the stored epoch; with `lock`, holds a share lock on its row until the transaction ends, so a takeover
    /// (which updates the row) waits for the write in progress or the write sees the takeover.
    private func epochQuery(lock: Bool) -> PostgresQuery {
        var binds = PostgresBindings()
        binds.append(Self.epochKey)
        return PostgresQuery(
            unsafeSQL: "SELECT value FROM \(self.schema).kv WHERE key = $1" + (lock ? " FOR SHARE" : ""),
            binds: binds
        )
    }

    private static func storedEpoch(
        _ connection: PostgresConnection,
        _ query: PostgresQuery,
        logger: Logger
    ) async throws -> Int64? {
        for try await value in try await connection.query(query, logger: logger).decode(String.self) {
            guard let epoch = Int64(value) else {
                throw StoreError(
                    .corruptData,
                    "The stored leadership epoch '\(value)' is not an integer; delete the kv row "
                        + "'\(Self.epochKey)' and restart the schedulers."
                )
            }
            return epoch
        }
        return nil
    }

    private func value(_ key: String, _ operation: String) async throws -> String? {
        var binds = PostgresBindings()
        binds.append(key)
        let query = PostgresQuery(unsafeSQL: "SELECT value FROM \(self.schema).kv WHERE key = $1", binds: binds)
        let logger = self.logger
        return try await self.withConnection(operation) { connection in
            for try await value in try await connection.query(query, logger: logger).decode(String.self) {
                return value
            }
            return nil
        }
    }

    private func setValue(_ value: String, for key: String, _ operation: String) async throws {
        var binds = PostgresBindings()
        binds.append(key)
        binds.append(value)
        let query = PostgresQuery(
            unsafeSQL: """
                INSERT INTO \(self.schema).kv (key, value) VALUES ($1, $2)
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
                """,
            binds: binds
        )
        try await self.transaction(operation) { connection, logger in
            try await connection.execute(query, logger: logger)
        }
    }

    // MARK: Testing

    /// Drops the store's schema and everything in it. For tests that isolate themselves in their own schema.
    ///
    /// - Throws: ``StoreError/Code/invalidArgument`` for the `public` schema, which is never dropped.
    @_spi(Testing)
    public func dropSchema() async throws {
        guard self.configuration.schema != "public" else {
            throw StoreError(.invalidArgument, "Refusing to drop the 'public' schema; drop it by hand if you must.")
        }
        let sql = "DROP SCHEMA IF EXISTS \(self.schema) CASCADE"
        let logger = self.logger
        try await self.withConnection("drop the schema") { connection in
            try await connection.execute(trustedSQL: sql, logger: logger)
        }
    }

    /// Runs one SQL statement in its own transaction, unfenced; `{schema}` stands for the store's quoted schema.
    /// For tests that set up data as older versions left it.
    @_spi(Testing)
    public func execute(testSQL sql: String) async throws {
        let query = PostgresQuery(unsafeSQL: sql.replacing("{schema}", with: self.schema))
        try await self.transaction("run a test statement", fenced: false) { connection, logger in
            try await connection.execute(query, logger: logger)
        }
    }

    // MARK: Connections and transactions

    /// Runs `body` inside one transaction on a pooled connection. With `fenced` (every write) and a claimed epoch,
    /// the transaction first checks that no larger epoch is stored and throws ``LeadershipFencedError`` otherwise.
    private func transaction<Result: Sendable>(
        _ operation: String,
        fenced: Bool = true,
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> Result
    ) async throws -> Result {
        let logger = self.logger
        let epoch = fenced ? self.claimedEpoch.value : nil
        let epochQuery = self.epochQuery(lock: true)
        return try await self.withConnection(operation) { connection in
            try await connection.withTransaction(logger: logger) { connection in
                if let epoch, let stored = try await Self.storedEpoch(connection, epochQuery, logger: logger),
                    stored > epoch
                {
                    throw LeadershipFencedError(ownEpoch: epoch, storedEpoch: stored)
                }
                return try await body(connection, logger)
            }
        }
    }

    /// Runs `body` with a pooled connection, failing with ``StoreError/Code/unavailable`` if none arrives within
    /// ``Configuration/connectionTimeout``, and maps every failure to ``StoreError``.
    private func withConnection<Result: Sendable>(
        _ operation: String,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let client = self.client
        let timeout = self.configuration.connectionTimeout
        let race = LeaseRace()
        do {
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        guard await race.lease() else { throw CancellationError() }
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    guard await race.timeOut() else { return nil }
                    throw StoreError(
                        .unavailable,
                        "Cannot \(operation): no connection to the PostgreSQL server at "
                            + "'\(self.configuration.host):\(self.configuration.port)' within \(timeout); check that "
                            + "the server is running and reachable and that the store's run() has been started."
                    )
                }
                while let result = try await group.next() {
                    if let result {
                        group.cancelAll()
                        return result
                    }
                }
                throw CancellationError()
            }
        } catch {
            throw self.storeError(error, operation)
        }
    }

    private static func lockMigrations(
        _ connection: PostgresConnection,
        schemaName: String,
        logger: Logger
    )
        async throws
    {
        let lock: PostgresQuery = "SELECT pg_advisory_xact_lock(\(Self.migrationLockKey), hashtext(\(schemaName)))"
        try await connection.execute(
            lock,
            logger: logger
        )
    }

    // MARK: Errors

    private func storeError(_ error: any Error, _ operation: String) -> any Error {
        switch error {
        case is CancellationError, is StoreError, is LeadershipFencedError:
            return error
        case let error as PostgresTransactionError:
            let inner = error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError
            return inner.map { self.storeError($0, operation) } ?? self.unavailable(operation, error)
        case let error as PSQLError:
            return self.storeError(error, operation)
        case is PostgresDecodingError:
            return StoreError(
                .corruptData,
                "Cannot \(operation): a stored row has an unexpected column type in schema "
                    + "'\(self.configuration.schema)'; the tables may have been changed by hand.",
                cause: error
            )
        default:
            // Pool errors (the circuit breaker after repeated connection failures) and channel errors.
            return self.unavailable(operation, error)
        }
    }

    private func storeError(_ error: PSQLError, _ operation: String) -> any Error {
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            // 08 connection, 53 resources, 57P shutdown/starting, 28 login, 3D000 no such database, 40 conflict.
            let unavailablePrefixes = ["08", "53", "57P", "28", "3D000", "40001", "40P01", "25006"]
            if unavailablePrefixes.contains(where: state.hasPrefix) {
                return self.unavailable(operation, error, detail: "SQLSTATE \(state)")
            }
            return StoreError(
                .queryFailed,
                "Cannot \(operation): the PostgreSQL server rejected the statement (SQLSTATE \(state)) in schema "
                    + "'\(self.configuration.schema)'; run migrate() and check that the tables were not changed "
                    + "by hand.",
                cause: error
            )
        case .queryCancelled where Task.isCancelled:
            return CancellationError()
        case .tooManyParameters, .invalidCommandTag, .unexpectedBackendMessage, .messageDecodingFailure:
            return StoreError(
                .queryFailed,
                "Cannot \(operation): the PostgreSQL driver failed (\(error.code)); this is a bug in Regatta.",
                cause: error
            )
        default:
            return self.unavailable(operation, error, detail: "\(error.code)")
        }
    }

    private func unavailable(_ operation: String, _ cause: any Error, detail: String? = nil) -> StoreError {
        let reason = detail.map { " (\($0))" } ?? ""
        return StoreError(
            .unavailable,
            "Cannot \(operation): the PostgreSQL server at '\(self.configuration.host):\(self.configuration.port)', "
                + "database '\(self.configuration.database ?? self.configuration.username)', is unavailable\(reason); "
                + "check that it is running and reachable and that the user and password are right.",
            cause: cause
        )
    }
}

extension PostgresConnection {
    /// Runs a statement and discards its rows.
    fileprivate func execute(_ query: PostgresQuery, logger: Logger) async throws {
        _ = try await self.query(query, logger: logger).collect()
    }

    /// Runs a statement built from trusted text (constants and the validated schema name) and discards its rows.
    fileprivate func execute(trustedSQL sql: String, logger: Logger) async throws {
        try await self.execute(PostgresQuery(unsafeSQL: sql), logger: logger)
    }
}
