// SPDX-License-Identifier: Apache-2.0
import CZooKeeper
import Synchronization

/// What a one-shot watch reports when it fires.
public struct ZooKeeperWatchEvent: Hashable, Sendable, CustomStringConvertible {
    /// The kind of change.
    public enum Kind: Hashable, Sendable {
        /// The node was created (a watch set by `watchExists` on a missing node).
        case created
        /// The node was deleted.
        case deleted
        /// The node's data changed.
        case dataChanged
        /// A child was added or removed.
        case childrenChanged
        /// The server dropped the watch.
        case watchRemoved
    }

    public var kind: Kind
    /// The path of the node the watch was set on.
    public var path: String

    public init(kind: Kind, path: String) {
        self.kind = kind
        self.path = path
    }

    public var description: String { "\(self.kind) \(self.path)" }
}

/// A one-shot ZooKeeper watch: it fires once, for the first change after it was set.
///
/// ZooKeeper keeps the watch across reconnects within the session. If the session expires or the client is closed
/// first, ``event()`` throws ``ZooKeeperError`` (`.sessionExpired` or `.closed`), because the watch can never fire.
public struct ZooKeeperWatch: Sendable {
    let pending: PendingWatch

    /// The path the watch was set on.
    public var path: String { self.pending.path }

    /// Waits until the watch fires and returns what happened; returns at once if it already fired.
    ///
    /// Any number of tasks may wait. Cancelling a waiting task throws `CancellationError` for that task only.
    public func event() async throws -> ZooKeeperWatchEvent {
        try await self.pending.wait()
    }

    /// Whether the watch has fired (or ended with an error).
    public var hasFired: Bool { self.pending.hasFired }
}

/// A value read from ZooKeeper together with the watch set by the same read.
public struct ZooKeeperWatched<Value: Sendable>: Sendable {
    /// What the read returned.
    public var value: Value
    /// Fires on the first change after the read.
    public var watch: ZooKeeperWatch
}

/// The state behind a ``ZooKeeperWatch``. Its address is the C watcher context: the ``WatchRegistry`` keeps it alive
/// until the C client can no longer call it (it fired, was never registered, or the handle was closed).
final class PendingWatch: Sendable {
    private enum State {
        case waiting([UInt64: CheckedContinuation<ZooKeeperWatchEvent, any Error>], nextWaiter: UInt64)
        case done(Result<ZooKeeperWatchEvent, ZooKeeperError>)
    }

    let id: UInt64
    let path: String
    private let registry: WatchRegistry
    private let state = Mutex(State.waiting([:], nextWaiter: 0))

    init(id: UInt64, path: String, registry: WatchRegistry) {
        self.id = id
        self.path = path
        self.registry = registry
    }

    var hasFired: Bool {
        self.state.withLock { state in
            if case .done = state { return true }
            return false
        }
    }

    /// The opaque pointer handed to the C client as the watcher context.
    var context: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// Called on the C client's completion thread for every event delivered to this watcher.
    func handle(type: Int32, state: Int32) {
        if type == ZOO_SESSION_EVENT {
            // Session events reach every registered watcher; only the end of the session ends the watch. The C
            // client still holds the pointer, so the registry keeps this object until the handle is closed.
            switch ZooKeeperSessionState(cState: state) {
            case .expired, .authenticationFailed: self.finish(.failure(.watchSessionExpired(path: self.path)))
            case .connecting, .connected, .closed: break
            }
            return
        }
        let kind: ZooKeeperWatchEvent.Kind
        switch type {
        case ZOO_CREATED_EVENT: kind = .created
        case ZOO_DELETED_EVENT: kind = .deleted
        case ZOO_CHANGED_EVENT: kind = .dataChanged
        case ZOO_CHILD_EVENT: kind = .childrenChanged
        default: kind = .watchRemoved
        }
        // A fired watch is removed from the C client's tables before delivery: nothing refers to it any more.
        self.finish(.success(ZooKeeperWatchEvent(kind: kind, path: self.path)))
        self.registry.remove(self.id)
    }

    /// Ends the watch; later calls do nothing.
    func finish(_ result: Result<ZooKeeperWatchEvent, ZooKeeperError>) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<ZooKeeperWatchEvent, any Error>] in
            guard case .waiting(let waiters, _) = state else { return [] }
            state = .done(result)
            return Array(waiters.values)
        }
        for waiter in waiters { waiter.resume(with: result.mapError { $0 as any Error }) }
    }

    /// Drops a watch the C client never registered (its read failed).
    func discard(_ error: ZooKeeperError) {
        self.finish(.failure(error))
        self.registry.remove(self.id)
    }

    func wait() async throws -> ZooKeeperWatchEvent {
        let waiterID = Mutex<UInt64?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<ZooKeeperWatchEvent, any Error>) in
                let immediate = self.state.withLock { state -> Result<ZooKeeperWatchEvent, any Error>? in
                    switch state {
                    case .done(let result):
                        return result.mapError { $0 as any Error }
                    case .waiting(var waiters, let next):
                        if Task.isCancelled { return .failure(CancellationError()) }
                        waiters[next] = continuation
                        state = .waiting(waiters, nextWaiter: next + 1)
                        waiterID.withLock { $0 = next }
                        return nil
                    }
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let cancelled = self.state.withLock { state -> CheckedContinuation<ZooKeeperWatchEvent, any Error>? in
                guard case .waiting(var waiters, let next) = state, let id = waiterID.withLock({ $0 }) else {
                    return nil
                }
                let continuation = waiters.removeValue(forKey: id)
                state = .waiting(waiters, nextWaiter: next)
                return continuation
            }
            cancelled?.resume(throwing: CancellationError())
        }
    }
}

/// Owns every watch of one client whose C registration may still be alive.
final class WatchRegistry: Sendable {
    private struct State {
        var watches: [UInt64: PendingWatch] = [:]
        var nextID: UInt64 = 0
    }
    private let state = Mutex(State())

    func make(path: String) -> PendingWatch {
        self.state.withLock { state in
            let watch = PendingWatch(id: state.nextID, path: path, registry: self)
            state.watches[state.nextID] = watch
            state.nextID += 1
            return watch
        }
    }

    func remove(_ id: UInt64) {
        // Dropped outside the lock: the watch's last reference may go here.
        let removed = self.state.withLock { $0.watches.removeValue(forKey: id) }
        _ = removed
    }

    var count: Int { self.state.withLock { $0.watches.count } }

    /// After the handle is closed (no C callback can run any more): ends and releases every watch.
    func closeAll() {
        let watches = self.state.withLock { state -> [PendingWatch] in
            let watches = Array(state.watches.values)
            state.watches.removeAll()
            return watches
        }
        for watch in watches { watch.finish(.failure(.watchClosed(path: watch.path))) }
    }
}
