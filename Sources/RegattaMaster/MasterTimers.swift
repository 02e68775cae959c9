// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// Runs a master's timers on an injected clock: allocation rounds and framework heartbeats at fixed intervals, and
/// the state's own deadlines (offer expiry, failover timeouts, re-registration window, agent pings) exactly when due.
///
/// The deadline loop asks the master for ``MasterState/nextDeadline()``, sleeps on `clock` until then — or until an
/// event brings a nearer deadline (``MasterAction/wakeAt(_:)`` rings the master's ``WakeSignal``) — and calls
/// ``Master/timerFired()``. Production passes `ContinuousClock`; tests pass `ManualClock` and move time themselves.
struct MasterTimers<C: Clock>: Sendable where C.Duration == Duration {
    let master: Master
    let clock: C
    /// The clock's reading at the master's time zero: the master's `uptime` is `origin.duration(to: clock.now)`.
    let origin: C.Instant
    let allocationInterval: Duration
    let heartbeatInterval: Duration

    /// Runs every timer until cancelled.
    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.every(self.allocationInterval) { await self.master.allocate() } }
            group.addTask { try await self.every(self.heartbeatInterval) { await self.master.heartbeat() } }
            group.addTask { try await self.runDeadlines() }
        }
    }

    /// Sleeps until the state's next deadline (or an earlier wake-up) and fires the state's timer, until cancelled.
    func runDeadlines() async throws {
        let wake = self.master.wake
        while true {
            try Task.checkCancellation()
            let deadline = await self.master.nextTimerDeadline()
            await withTaskGroup(of: Void.self) { group in
                if let deadline {
                    let instant = self.origin.advanced(by: deadline)
                    group.addTask { try? await self.clock.sleep(until: instant, tolerance: nil) }
                }
                group.addTask { await wake.wait() }
                await group.next()
                group.cancelAll()
            }
            try Task.checkCancellation()
            await self.master.timerFired()
        }
    }

    private func every(_ interval: Duration, _ body: @Sendable () async -> Void) async throws {
        while true {
            try await self.clock.sleep(for: interval)
            await body()
        }
    }
}

/// A one-shot wake-up for the timer loop: ``ring()`` resumes the waiter, or the next ``wait()`` if none is waiting.
final class WakeSignal: Sendable {
    private struct State {
        var rung = false
        var nextID: UInt64 = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        /// Waiters cancelled before they were registered.
        var cancelled: Set<UInt64> = []
    }

    private let state = Mutex(State())

    /// Wakes the waiters, or the next waiter if there is none now.
    func ring() {
        let waiters = self.state.withLock { state in
            if state.waiters.isEmpty { state.rung = true }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume() }
    }

    /// Returns once rung (at once if rung since the last wait) or when the calling task is cancelled.
    func wait() async {
        let id = self.state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state -> Bool in
                    if state.cancelled.remove(id) != nil { return true }
                    if state.rung {
                        state.rung = false
                        return true
                    }
                    state.waiters.append((id, continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else {
                    state.cancelled.insert(id)
                    return nil
                }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume()
        }
    }
}
