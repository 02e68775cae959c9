// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// The launch delay of an app after failures (Marathon's backoff).
public struct LaunchDelay: Sendable, Hashable {
    /// The current delay in seconds.
    public var seconds: Double
    /// No launch before this time.
    public var until: Duration
}

/// Launch delays of apps whose tasks failed (Marathon's backoff).
///
/// The first failure delays the app's next launch by `backoffSeconds`; each further failure multiplies the delay by
/// `backoffFactor`, up to `maxLaunchDelaySeconds`. A new configuration of the app, or `DELETE /v2/queue/{id}/delay`,
/// resets it. Time is monotonic and passed in.
public struct LaunchBackoff: Sendable, Hashable {
    /// The delays by app id.
    public private(set) var delays: [String: LaunchDelay] = [:]

    /// No app delayed.
    public init() {}

    /// Delays `app` after a task of it failed at `now`.
    public mutating func taskFailed(_ app: AppDefinition, now: Duration) {
        let seconds =
            self.delays[app.id].map { min($0.seconds * app.backoffFactor, app.maxLaunchDelaySeconds) }
            ?? app.backoffSeconds
        self.delays[app.id] = LaunchDelay(seconds: seconds, until: now + Saturating.duration(seconds: seconds))
    }

    /// Forgets the delay of an app (new configuration, app removed, or reset through the API).
    public mutating func reset(_ appId: String) {
        self.delays[appId] = nil
    }

    /// Whether `appId` may not launch at `now`.
    public func isDelayed(_ appId: String, now: Duration) -> Bool {
        guard let delay = self.delays[appId] else { return false }
        return delay.until > now
    }

    /// When the earliest delay still running at `now` ends, if any.
    public func nextEnd(after now: Duration) -> Duration? {
        self.delays.values.map(\.until).filter { $0 > now }.min()
    }
}
