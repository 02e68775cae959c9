// SPDX-License-Identifier: Apache-2.0
import Logging
import Synchronization

/// The leading master as last detected (through ZooKeeper), shared by everything that talks to the master — an
/// agent's master link, or every simulated agent of a process (one detector for all of them) — and by everything that
/// waits for the leader to change.
///
/// Every change, including to `nil` ("no leader known"), moves ``Snapshot/generation`` on. A client remembers the
/// generation it subscribed under and drops its stream as soon as the generation moves on, so it never keeps talking
/// to a master that is not the detected leader, and ignores every master while none is known.
public final class LeadingMaster: Sendable {
    /// The detected leader and how many changes led to it.
    public struct Snapshot: Sendable, Equatable {
        /// The leader, `nil` while none is known.
        public var address: MesosMasterAddress?
        /// Incremented on every change.
        public var generation: Int

        public init(address: MesosMasterAddress?, generation: Int) {
            self.address = address
            self.generation = generation
        }
    }

    private struct State {
        var snapshot = Snapshot(address: nil, generation: 0)
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// The leader now.
    public var current: Snapshot { self.state.withLock { $0.snapshot } }

    /// Records the detected leader; wakes every waiter if it changed.
    ///
    /// - Returns: whether it changed.
    @discardableResult
    public func update(_ address: MesosMasterAddress?) -> Bool {
        let woken: [CheckedContinuation<Void, Never>]? = self.state.withLock { state in
            guard state.snapshot.address != address else { return nil }
            state.snapshot = Snapshot(address: address, generation: state.snapshot.generation + 1)
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        guard let woken else { return false }
        for waiter in woken { waiter.resume() }
        return true
    }

    /// Returns once the generation differs from `generation` (at once if it already does), or when the calling task
    /// is cancelled.
    public func waitForChange(from generation: Int) async {
        let id = self.state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state in
                    if state.snapshot.generation != generation || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Returns the first snapshot that names a leader (at once if the current one does); `nil` when the calling task
    /// is cancelled first.
    public func waitForLeader() async -> Snapshot? {
        while !Task.isCancelled {
            let snapshot = self.current
            if snapshot.address != nil { return snapshot }
            await self.waitForChange(from: snapshot.generation)
        }
        return nil
    }

    /// Records every leader `leaders` reports until it finishes or the calling task is cancelled, then forgets the
    /// leader (nothing follows it any more). `changed` is called on every change, before any waiter wakes.
    public func follow(
        _ leaders: AsyncStream<MesosMasterAddress?>,
        logger: Logger,
        changed: @Sendable (MesosMasterAddress?) -> Void = { _ in }
    ) async {
        for await leader in leaders {
            guard self.current.address != leader else { continue }
            changed(leader)
            self.update(leader)
            if let leader {
                logger.info(
                    "Detected the leading master",
                    metadata: [LogKey.master: "\(leader)", "master.id": "\(leader.id ?? "-")"]
                )
            } else {
                logger.warning("No leading master known; ignoring every master until ZooKeeper names one")
            }
        }
        if self.current.address != nil {
            changed(nil)
            self.update(nil)
        }
    }
}
