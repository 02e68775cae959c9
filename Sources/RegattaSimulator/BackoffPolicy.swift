// SPDX-License-Identifier: Apache-2.0

/// An exponential backoff: `initial`, doubling per attempt, capped at `maximum`, with optional jitter.
///
/// The same policy as the real agent's status-update and SUBSCRIBE retries (`docs/protocol.md`).
public struct BackoffPolicy: Hashable, Sendable {
    /// The delay before the first retry.
    public var initial: Duration
    /// The largest delay.
    public var maximum: Duration
    /// Random delay added, as a fraction of the computed delay (`0.25` adds up to 25 %); the result never
    /// exceeds `maximum`. Defaults to `0`.
    public var jitter: Double

    /// Creates a backoff policy.
    public init(initial: Duration, maximum: Duration, jitter: Double = 0) {
        self.initial = initial
        self.maximum = max(initial, maximum)
        self.jitter = max(0, jitter)
    }

    /// The delay before retry number `attempt` (0 for the first retry); `random` in `0..<1` scales the jitter.
    public func delay(attempt: Int, random: Double = 0) -> Duration {
        let initialSeconds = Double(self.initial.components.seconds) + Double(self.initial.components.attoseconds) / 1e18
        let maximumSeconds = Double(self.maximum.components.seconds) + Double(self.maximum.components.attoseconds) / 1e18
        let base = min(maximumSeconds, initialSeconds * Double(1 << min(max(attempt, 0), 30)))
        let jittered = min(maximumSeconds, base * (1 + self.jitter * min(max(random, 0), 1)))
        return .nanoseconds(Int64(jittered * 1e9))
    }
}
