// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// Liveness of one SUBSCRIBE stream, shared by its reader, its watchdog and the agent's senders.
final class StreamSession: Sendable {
    private struct State {
        var registered = false
        var lastMessage: ContinuousClock.Instant
        var timeout: Duration
    }
    private let state: Mutex<State>
    private let resubscribe: AsyncStream<Void>
    private let resubscribeContinuation: AsyncStream<Void>.Continuation

    init(openedAt: ContinuousClock.Instant, timeout: Duration) {
        self.state = Mutex(State(lastMessage: openedAt, timeout: timeout))
        (self.resubscribe, self.resubscribeContinuation) = AsyncStream.makeStream(of: Void.self)
    }

    var isRegistered: Bool { self.state.withLock { $0.registered } }

    func messageReceived(at instant: ContinuousClock.Instant) {
        self.state.withLock { $0.lastMessage = instant }
    }

    /// Marks the stream registered; from now on the watchdog allows `timeout` of silence.
    func registered(timeout: Duration) {
        self.state.withLock {
            $0.registered = true
            $0.timeout = timeout
        }
    }

    /// When the stream counts as dead if no further message arrives.
    var deadline: ContinuousClock.Instant {
        self.state.withLock { $0.lastMessage + $0.timeout }
    }

    /// The timeout that the silence up to `instant` exceeded, if it did.
    func expired(at instant: ContinuousClock.Instant) -> Duration? {
        self.state.withLock { state in
            state.lastMessage.duration(to: instant) > state.timeout ? state.timeout : nil
        }
    }

    /// Asks the stream to end so the agent subscribes again (the master answered `404`).
    func requestResubscribe() {
        self.resubscribeContinuation.finish()
    }

    /// Returns once ``requestResubscribe()`` was called, or when the calling task is cancelled.
    func waitForResubscribeRequest() async {
        for await _ in self.resubscribe {}
    }
}
