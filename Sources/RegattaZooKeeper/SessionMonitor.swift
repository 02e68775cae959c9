// SPDX-License-Identifier: Apache-2.0
import Logging
import Synchronization

/// Tracks one client's session state, fans it out to subscribers and wakes tasks waiting for a connection.
///
/// Its address is the C client's global watcher context; the client keeps it alive until the handle is closed.
final class SessionMonitor: Sendable {
    private struct State {
        var current: ZooKeeperSessionState = .connecting
        var subscribers: [UInt64: AsyncStream<ZooKeeperSessionState>.Continuation] = [:]
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextID: UInt64 = 0
        /// Set when the client starts closing: the C client's last session events are noise then.
        var closing = false
    }

    private let state = Mutex(State())
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// The opaque pointer handed to the C client as the handle's context.
    var context: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    var current: ZooKeeperSessionState { self.state.withLock { $0.current } }

    /// Records a state the C client reported (on its completion thread).
    func update(fromC new: ZooKeeperSessionState) {
        guard !self.state.withLock({ $0.closing }) else { return }
        self.update(new)
    }

    /// Ignores the C client's session events from now on; `update(.closed)` follows once it has shut down.
    func beginClosing() {
        self.state.withLock { $0.closing = true }
    }

    /// Records a new state. End states are final.
    func update(_ new: ZooKeeperSessionState) {
        let (waiters, finished) = self.state.withLock { state in
            guard state.current != new, !state.current.isTerminal else {
                return ([CheckedContinuation<Void, any Error>](), [AsyncStream<ZooKeeperSessionState>.Continuation]())
            }
            state.current = new
            // Yielding under the lock keeps the order of states for every subscriber. Finishing runs the streams'
            // termination handlers, which take the lock, so it happens below.
            for subscriber in state.subscribers.values { subscriber.yield(new) }
            var finished: [AsyncStream<ZooKeeperSessionState>.Continuation] = []
            if new.isTerminal {
                finished = Array(state.subscribers.values)
                state.subscribers.removeAll()
            }
            guard new == .connected || new.isTerminal else { return ([], finished) }
            let waiters = Array(state.waiters.values)
            state.waiters.removeAll()
            return (waiters, finished)
        }
        for subscriber in finished { subscriber.finish() }
        let metadata: Logger.Metadata = [LogKey.sessionState: "\(new)"]
        switch new {
        case .connected, .closed: self.logger.debug("ZooKeeper session state changed", metadata: metadata)
        case .connecting: self.logger.info("ZooKeeper connection lost; reconnecting", metadata: metadata)
        case .expired, .authenticationFailed: self.logger.notice("ZooKeeper session ended", metadata: metadata)
        }
        let result: Result<Void, any Error> = new == .connected ? .success(()) : .failure(Self.error(for: new))
        for waiter in waiters { waiter.resume(with: result) }
    }

    /// A new stream of session states: first the current one, then every change; it finishes after an end state.
    func subscribe() -> AsyncStream<ZooKeeperSessionState> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: ZooKeeperSessionState.self,
            bufferingPolicy: .bufferingNewest(64)
        )
        let id = self.state.withLock { state -> UInt64? in
            continuation.yield(state.current)
            guard !state.current.isTerminal else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Returns once the session is connected; throws if it ends first, or `CancellationError` if cancelled.
    func waitUntilConnected() async throws {
        let waiterID = Mutex<UInt64?>(nil)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let immediate = self.state.withLock { state -> Result<Void, any Error>? in
                    if state.current == .connected { return .success(()) }
                    if state.current.isTerminal { return .failure(Self.error(for: state.current)) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    let id = state.nextID
                    state.nextID += 1
                    state.waiters[id] = continuation
                    waiterID.withLock { $0 = id }
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let cancelled = self.state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let id = waiterID.withLock({ $0 }) else { return nil }
                return state.waiters.removeValue(forKey: id)
            }
            cancelled?.resume(throwing: CancellationError())
        }
    }

    static func error(for state: ZooKeeperSessionState) -> ZooKeeperError {
        switch state {
        case .expired:
            ZooKeeperError(
                .sessionExpired,
                "The ZooKeeper session expired; its ephemeral nodes and watches are gone. Connect a new client."
            )
        case .authenticationFailed:
            ZooKeeperError(
                .authenticationFailed,
                "ZooKeeper rejected the credentials; check the user:password in the zk:// URL."
            )
        case .closed, .connecting, .connected:
            ZooKeeperError(.closed, "The ZooKeeper client is closed; connect a new client.")
        }
    }
}
