// SPDX-License-Identifier: Apache-2.0
import CZooKeeper
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An asynchronous ZooKeeper client over the C library (libzookeeper-mt).
///
/// ```swift
/// let zk = try await ZooKeeperClient.connect(connectionString: "127.0.0.1:2181", logger: logger)
/// let path = try await zk.create("/regatta/json.info_", data: bytes, ephemeral: true, sequential: true)
/// let watched = try await zk.watchChildren("/regatta")
/// let event = try await watched.watch.event()
/// await zk.close()
/// ```
///
/// One client is one session. The C client reconnects by itself after a lost connection (state `connecting`, then
/// `connected` again; ephemeral nodes and watches survive), but an expired session is final: connect a new client.
/// Calls that were in flight when the connection dropped fail with ``ZooKeeperError/Code/connectionLoss``.
///
/// The C library calls back on its own threads; every callback only resumes continuations or yields to streams.
/// Close the client with ``close()``; if it is dropped while open, `deinit` closes it on a background thread.
public final class ZooKeeperClient: Sendable {
    enum HandleState {
        case open(HandlePointer)
        case closing([CheckedContinuation<Void, Never>])
        case closed
    }

    /// The C handle; calls into the C client happen under this lock, so none can race with `zookeeper_close`.
    let handle: Mutex<HandleState>
    let monitor: SessionMonitor
    let watches: WatchRegistry
    let calls: CallRegistry
    let logger: Logger
    /// Nodes get the world-read, creator-all ACL when the client authenticated, the open ACL otherwise.
    let usesDigestACL: Bool

    /// The servers this client connects to (`host:port,host:port`).
    public let connectionString: String

    private init(
        handle: OpaquePointer,
        monitor: SessionMonitor,
        connectionString: String,
        usesDigestACL: Bool,
        logger: Logger
    ) {
        self.handle = Mutex(.open(HandlePointer(raw: handle)))
        self.monitor = monitor
        self.watches = WatchRegistry()
        self.calls = CallRegistry()
        self.connectionString = connectionString
        self.usesDigestACL = usesDigestACL
        self.logger = logger
    }

    deinit {
        let handle = self.handle.withLock { state -> HandlePointer? in
            guard case .open(let handle) = state else { return nil }
            state = .closed
            return handle
        }
        if let handle {
            Self.closeHandle(
                handle,
                monitor: self.monitor,
                watches: self.watches,
                calls: self.calls,
                drain: .seconds(2)
            ) {}
        }
    }

    // MARK: Connecting

    /// Connects to a ZooKeeper ensemble and returns once the session is established.
    ///
    /// - Parameters:
    ///   - connectionString: `host:port[,host:port…]`; the C client also accepts a chroot suffix (`…/chroot`).
    ///   - sessionTimeout: the session timeout to ask for (the server clamps it to its own bounds); Mesos's default
    ///     `--zk_session_timeout` is 10 seconds.
    ///   - connectTimeout: how long to wait for the first connection; defaults to `sessionTimeout`.
    ///   - credentials: digest credentials to authenticate with; nodes this client creates are then readable by
    ///     anyone and writable only by these credentials.
    ///   - session: an existing session to resume instead of starting a new one.
    ///   - logger: receives this client's logs and the C library's own log lines.
    /// - Throws: ``ZooKeeperError`` with `.connectTimeout` if no server answered in time, `.sessionExpired` if the
    ///   resumed session is gone, `.authenticationFailed`, or `.badArguments` for a malformed connection string.
    public static func connect(
        connectionString: String,
        sessionTimeout: Duration = .seconds(10),
        connectTimeout: Duration? = nil,
        credentials: ZooKeeperURL.Credentials? = nil,
        resuming session: ZooKeeperSessionID? = nil,
        logger: Logger
    ) async throws -> ZooKeeperClient {
        var logger = logger
        logger[metadataKey: LogKey.servers] = "\(connectionString)"
        ZooKeeperLibraryLog.install(logger)

        let monitor = SessionMonitor(logger: logger)
        let timeout = Int32(clamping: sessionTimeout.milliseconds)
        var clientID = session?.clientID ?? clientid_t()
        let handle: OpaquePointer? = connectionString.withCString { host in
            withUnsafePointer(to: &clientID) { clientID in
                zookeeper_init2(
                    host,
                    { _, type, state, _, context in
                        guard type == ZOO_SESSION_EVENT, let context else { return }
                        Unmanaged<SessionMonitor>.fromOpaque(context).takeUnretainedValue()
                            .update(fromC: ZooKeeperSessionState(cState: state))
                    },
                    timeout,
                    session == nil ? nil : clientID,
                    monitor.context,
                    ZOO_NO_LOG_CLIENTENV,
                    { message in ZooKeeperLibraryLog.emit(message) }
                )
            }
        }
        guard let handle else {
            let reason = String(cString: strerror(errno))
            throw ZooKeeperError(
                .badArguments,
                "Cannot use ZooKeeper servers '\(connectionString)' (\(reason)); give host:port[,host:port], with host "
                    + "names that resolve."
            )
        }

        let client = ZooKeeperClient(
            handle: handle,
            monitor: monitor,
            connectionString: connectionString,
            usesDigestACL: credentials != nil,
            logger: logger
        )
        do {
            try await client.waitUntilConnected(timeout: connectTimeout ?? sessionTimeout)
            if let credentials {
                try await client.authenticate(credentials)
            }
        } catch {
            await client.close()
            throw error
        }
        logger.debug(
            "Connected to ZooKeeper",
            metadata: [LogKey.sessionID: "\(client.sessionID.map { "\($0)" } ?? "none")"]
        )
        return client
    }

    /// Connects to the servers of a `zk://` URL, authenticating with its credentials if it has any.
    ///
    /// The URL's path is not a chroot: pass it to ``LeaderContender`` / ``ZooKeeperLeaderDetector`` or use it in paths.
    public static func connect(
        url: ZooKeeperURL,
        sessionTimeout: Duration = .seconds(10),
        connectTimeout: Duration? = nil,
        logger: Logger
    ) async throws -> ZooKeeperClient {
        try await self.connect(
            connectionString: url.connectionString,
            sessionTimeout: sessionTimeout,
            connectTimeout: connectTimeout,
            credentials: url.credentials,
            logger: logger
        )
    }

    private func authenticate(_ credentials: ZooKeeperURL.Credentials) async throws {
        let digest = credentials.digest
        let _: Void = try await self.submit("authenticate", path: nil) { handle, data in
            zoo_add_auth(
                handle,
                "digest",
                digest,
                Int32(digest.utf8.count),
                { rc, data in
                    let completion = Completion<Void>.take(data)
                    guard rc == ZOK.rawValue else { return completion.fail(rc) }
                    completion.succeed(())
                },
                data
            )
        }
    }

    // MARK: Session

    /// The current session state.
    public var sessionState: ZooKeeperSessionState { self.monitor.current }

    /// A new stream of session states: first the current state, then every change. It finishes after an end state
    /// (`expired`, `authenticationFailed`, `closed`). Each call returns an independent stream.
    public func sessionStates() -> AsyncStream<ZooKeeperSessionState> {
        self.monitor.subscribe()
    }

    /// Returns once the session is connected (at once if it is).
    ///
    /// - Parameter timeout: give up after this long with `.connectTimeout`; `nil` waits as long as it takes.
    /// - Throws: ``ZooKeeperError`` if the session ends first or the timeout passes; `CancellationError`.
    public func waitUntilConnected(timeout: Duration? = nil) async throws {
        guard let timeout else { return try await self.monitor.waitUntilConnected() }
        if self.monitor.current == .connected { return }
        let servers = self.connectionString
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.monitor.waitUntilConnected() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw ZooKeeperError(
                    .connectTimeout,
                    "Could not connect to ZooKeeper at '\(servers)' within \(timeout); check that the servers are up "
                        + "and reachable from this host."
                )
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// The session's id and password while a session exists (`nil` before the first connection and after close).
    public var sessionID: ZooKeeperSessionID? {
        self.handle.withLock { state -> ZooKeeperSessionID? in
            guard case .open(let handle) = state, let clientID = zoo_client_id(handle.raw),
                clientID.pointee.client_id != 0
            else { return nil }
            return ZooKeeperSessionID(clientID.pointee)
        }
    }

    /// The session timeout the server granted (`nil` when not connected).
    public var negotiatedSessionTimeout: Duration? {
        self.handle.withLock { state -> Duration? in
            guard case .open(let handle) = state, self.monitor.current == .connected else { return nil }
            return .milliseconds(zoo_recv_timeout(handle.raw))
        }
    }

    // MARK: Closing

    /// Ends the session: the server deletes this client's ephemeral nodes at once and waiting watches throw
    /// `.closed`. New calls fail with `.closed` at once; calls already sent get up to two seconds to be answered
    /// before they fail with `.closed` too. Returns when the C client has shut down; later calls return once the
    /// first one has finished.
    public func close() async {
        await self.close(drainingFor: .seconds(2))
    }

    /// ``close()`` with a chosen grace period for calls in flight (tests use zero).
    func close(drainingFor drain: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            enum Action {
                case close(HandlePointer)
                case wait
                case done
            }
            let action = self.handle.withLock { state -> Action in
                switch state {
                case .open(let handle):
                    state = .closing([continuation])
                    return .close(handle)
                case .closing(var waiters):
                    waiters.append(continuation)
                    state = .closing(waiters)
                    return .wait
                case .closed:
                    return .done
                }
            }
            switch action {
            case .close(let handle):
                self.logger.debug("Closing ZooKeeper session")
                Self.closeHandle(
                    handle,
                    monitor: self.monitor,
                    watches: self.watches,
                    calls: self.calls,
                    drain: drain
                ) {
                    let waiters = self.handle.withLock { state -> [CheckedContinuation<Void, Never>] in
                        guard case .closing(let waiters) = state else { return [] }
                        state = .closed
                        return waiters
                    }
                    for waiter in waiters { waiter.resume() }
                }
            case .wait:
                break
            case .done:
                continuation.resume()
            }
        }
    }

    /// The C handle. Used only under the `handle` lock, and by the closing thread after it left the lock for good.
    struct HandlePointer: @unchecked Sendable {
        let raw: OpaquePointer
    }

    private static func closeHandle(
        _ handle: HandlePointer,
        monitor: SessionMonitor,
        watches: WatchRegistry,
        calls: CallRegistry,
        drain: Duration,
        then finished: @escaping @Sendable () -> Void
    ) {
        let connected = monitor.current == .connected
        monitor.beginClosing()
        DetachedThread.run {
            // No new calls start now. While connected, give the calls in flight a moment to get their answers:
            // the C client drops (and leaks) the ones still queued when it closes.
            if connected {
                var waited: Int64 = 0
                while calls.count > 0 && waited < drain.milliseconds {
                    usleep(5000)
                    waited += 5
                }
            }
            // Blocks while it tells the server and joins the C client's threads. Afterwards no callback can run:
            // the calls it dropped fail with `.closed`, and the watches and the monitor can let go.
            _ = zookeeper_close(handle.raw)
            calls.abandonAll()
            watches.closeAll()
            monitor.update(.closed)
            finished()
        }
    }

    // MARK: Calls

    /// Runs one asynchronous C call: `start` gets the handle and the completion's `data` pointer and returns the
    /// C call's immediate return code.
    func submit<Value: Sendable>(
        _ operation: String,
        path: String?,
        watch: PendingWatch? = nil,
        _ start: (OpaquePointer, UnsafeRawPointer) -> Int32
    ) async throws -> Value {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
            let completion = self.calls.make(
                operation: operation,
                path: path,
                watch: watch,
                continuation: continuation
            )
            let data = Unmanaged.passRetained(completion)
            let rc: Int32 = self.handle.withLock { state in
                guard case .open(let handle) = state else {
                    self.calls.remove(completion.id)
                    return ZCLOSING.rawValue
                }
                let rc = start(handle.raw, UnsafeRawPointer(data.toOpaque()))
                // Unlisted under the handle lock, so a concurrent close never sweeps a call the C client refused.
                if rc != ZOK.rawValue { self.calls.remove(completion.id) }
                return rc
            }
            guard rc == ZOK.rawValue else {
                // The C client did not take the call, so it will never call the completion.
                data.release()
                completion.abandon(
                    rc == ZCLOSING.rawValue
                        ? .closed(operation: operation, path: path)
                        : ZooKeeperError(returnCode: rc, operation: operation, path: path)
                )
                return
            }
        }
    }

    /// The ACL for nodes this client creates.
    var acl: UnsafePointer<ACL_vector> {
        self.usesDigestACL ? regatta_zoo_world_read_creator_all_acl() : regatta_zoo_open_acl()
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
