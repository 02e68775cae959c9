// SPDX-License-Identifier: Apache-2.0

/// An exponential backoff: the delay before each retry starts at `initial` and grows by `multiplier` up to
/// `maximum`, with optional random jitter.
///
/// The policy (`initial`, `maximum`, `multiplier`, `jitter`) is configuration; ``attempt`` is the state of one run of
/// retries. ``next(using:)`` returns the delay before the next retry and counts it, ``reset()`` starts over after a
/// success. Nothing here reads a clock or the system's randomness: the jitter comes from the generator passed in, so
/// a seeded generator makes the delays reproducible. ``delay(attempt:random:)`` is the pure formula, for callers that
/// keep the attempt count themselves.
public struct Backoff: Hashable, Sendable {
    /// The delay before the first retry.
    public var initial: Duration
    /// The largest delay, jitter included.
    public var maximum: Duration
    /// How much each delay grows over the one before. Defaults to `2`.
    public var multiplier: Double
    /// How much random delay to add, as a fraction of the computed delay (`0.25` adds up to 25 %).
    /// The result never exceeds ``maximum``. Defaults to `0`.
    public var jitter: Double
    /// How many delays ``next(using:)`` has handed out since the last ``reset()``.
    public private(set) var attempt = 0

    /// Creates a backoff policy, at its first attempt.
    ///
    /// A `maximum` below `initial` is raised to `initial`; a `multiplier` below `1` is raised to `1`; a negative
    /// `jitter` is `0`.
    public init(initial: Duration, maximum: Duration, multiplier: Double = 2, jitter: Double = 0) {
        self.initial = initial
        self.maximum = max(initial, maximum)
        self.multiplier = max(1, multiplier)
        self.jitter = max(0, jitter)
    }

    /// The delay before retry number `attempt` (0 for the first retry): `initial × multiplier^attempt`, plus up to
    /// `jitter` of it scaled by `random`, capped at ``maximum``.
    ///
    /// - Parameter random: a value in `0..<1` that scales the jitter; pass `0` for the delay without jitter.
    public func delay(attempt: Int, random: Double = 0) -> Duration {
        let initialSeconds = Self.seconds(self.initial)
        let maximumSeconds = Self.seconds(self.maximum)
        var base = initialSeconds
        // Multiply step by step, stopping at the cap, so large attempt counts cannot overflow.
        var step = 0
        while step < attempt && base < maximumSeconds && self.multiplier > 1 {
            base *= self.multiplier
            step += 1
        }
        base = min(maximumSeconds, base)
        let jittered = min(maximumSeconds, base * (1 + self.jitter * min(max(random, 0), 1)))
        return Saturating.duration(seconds: jittered)
    }

    /// The delay before the next retry, with jitter drawn from `generator`; counts the attempt.
    public mutating func next<G: RandomNumberGenerator>(using generator: inout G) -> Duration {
        let random = self.jitter > 0 ? Double.random(in: 0..<1, using: &generator) : 0
        defer { self.attempt += 1 }
        return self.delay(attempt: self.attempt, random: random)
    }

    /// Starts over: the next delay is ``initial`` again (after a success).
    public mutating func reset() {
        self.attempt = 0
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
