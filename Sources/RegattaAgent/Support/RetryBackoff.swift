// SPDX-License-Identifier: Apache-2.0

/// An exponential backoff: `initial`, doubling per attempt, capped at `maximum`, with optional jitter.
public struct RetryBackoff: Hashable, Sendable {
    /// The delay before the first retry.
    public var initial: Duration
    /// The largest delay.
    public var maximum: Duration
    /// How much random delay to add, as a fraction of the computed delay (`0.25` adds up to 25 %).
    /// The result never exceeds `maximum`. Defaults to `0`.
    public var jitter: Double

    /// Creates a backoff policy.
    public init(initial: Duration, maximum: Duration, jitter: Double = 0) {
        self.initial = initial
        self.maximum = max(initial, maximum)
        self.jitter = max(0, jitter)
    }

    /// The delay before retry number `attempt` (0 for the first retry).
    ///
    /// - Parameter random: a value in `0..<1` that scales the jitter; pass `0` for the delay without jitter.
    public func delay(attempt: Int, random: Double = 0) -> Duration {
        let initialSeconds = self.initial.seconds
        let maximumSeconds = self.maximum.seconds
        // Cap the exponent so large attempt counts cannot overflow.
        let base = min(maximumSeconds, initialSeconds * Double(1 << min(max(attempt, 0), 30)))
        let jittered = min(maximumSeconds, base * (1 + self.jitter * min(max(random, 0), 1)))
        return .nanoseconds(Int64(jittered * 1e9))
    }
}
