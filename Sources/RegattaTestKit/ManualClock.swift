// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// A `Clock` whose time moves only when a test calls `advance(by:)`.
///
/// Sleeps suspend until the clock is advanced past their deadline, so a component generic over
/// `C: Clock<Duration>` runs in a test exactly as in production, minus the waiting. Tests that must know a
/// component has reached its sleep before advancing use `sleepers(atLeast:)`.
///
/// - Important: Time never moves on its own; a test that never advances the clock leaves every sleeper
///   suspended until its task is cancelled (which throws `CancellationError`, as `ContinuousClock` does).
public final class ManualClock: Clock, Sendable {
    /// A point on the manual clock: the time elapsed since the clock was made.
    public struct Instant: InstantProtocol, Hashable, Sendable, CustomStringConvertible {
        /// Time since the clock's zero.
        public var offset: Duration

        /// An instant `offset` after the clock's zero.
        public init(offset: Duration) { self.offset = offset }

        public func advanced(by duration: Duration) -> Instant { Instant(offset: self.offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - self.offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        public var description: String { "+\(self.offset)" }
    }

    private struct Sleeper {
        var id: UInt64
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var nextID: UInt64 = 0
        var sleepers: [Sleeper] = []
        var sleeperWaiters: [(id: UInt64, count: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var cancelled: Set<UInt64> = []
        var cancelledWaiters: Set<UInt64> = []

        mutating func cancelledBeforeRegistration(_ id: UInt64) -> Bool {
            self.cancelled.remove(id) != nil
        }

        mutating func takeWaiters() -> [CheckedContinuation<Void, Never>] {
            let count = self.sleepers.count
            let ready = self.sleeperWaiters.filter { $0.count <= count }.map(\.continuation)
            self.sleeperWaiters.removeAll { $0.count <= count }
            return ready
        }
    }

    private let state = Mutex(State())

    /// A clock at zero with no sleepers.
    public init() {}

    /// The time now.
    public var now: Instant { self.state.withLock { $0.now } }

    /// The time now as the `Duration` since zero, for components that take an `uptime` reading.
    public var uptimeNow: Duration { self.now.offset }

    /// A closure reading this clock, to pass as `uptime`.
    public var uptime: @Sendable () -> Duration { { self.uptimeNow } }

    /// The manual clock resolves any duration.
    public var minimumResolution: Duration { .zero }

    /// How many sleeps are suspended now.
    public var sleeperCount: Int { self.state.withLock { $0.sleepers.count } }

    /// Suspends until the clock is advanced to `deadline` or beyond; returns at once if it already is.
    ///
    /// - Throws: `CancellationError` when the calling task is cancelled first.
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let id = self.state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (resumeNow, waiters) = self.state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                    if deadline <= state.now { return (true, []) }
                    // A cancellation that ran before the sleeper was registered left a tombstone id.
                    if state.cancelledBeforeRegistration(id) { return (true, []) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return (false, state.takeWaiters())
                }
                for waiter in waiters { waiter.resume() }
                if resumeNow {
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        continuation.resume()
                    }
                }
            }
        } onCancel: {
            let sleeper = self.state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else {
                    state.cancelled.insert(id)
                    return nil
                }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward by `duration` and wakes every sleeper whose deadline has been reached, earliest first.
    public func advance(by duration: Duration) {
        precondition(duration >= .zero, "A manual clock only moves forward.")
        let due = self.state.withLock { state -> [Sleeper] in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves time forward to `instant` (no-op if the clock is already there) and wakes the sleepers that are due.
    public func advance(to instant: Instant) {
        let delta = self.now.duration(to: instant)
        if delta > .zero { self.advance(by: delta) }
    }

    /// Returns once at least `count` sleeps are suspended on this clock, so a test can advance time knowing the
    /// component under test is waiting for it.
    public func sleepers(atLeast count: Int) async {
        // A test whose time limit runs out is cancelled: the wait then ends (and the test fails on what it expected)
        // instead of leaving `swift test` hung on a continuation nobody resumes.
        let id = self.state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = self.state.withLock { state -> Bool in
                    if state.sleepers.count >= count { return true }
                    if state.cancelledWaiters.remove(id) != nil { return true }
                    state.sleeperWaiters.append((id, count, continuation))
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.sleeperWaiters.firstIndex(where: { $0.id == id }) else {
                    state.cancelledWaiters.insert(id)
                    return nil
                }
                return state.sleeperWaiters.remove(at: index).continuation
            }
            waiter?.resume()
        }
    }
}
