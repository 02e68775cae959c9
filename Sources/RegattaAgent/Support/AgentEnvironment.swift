// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// What the agent reads from the world rather than from its own state: time, ids, randomness and the host's accounts.
///
/// The daemon uses ``live``: `ContinuousClock`, `Date()`, `UUID()` and `SystemRandomNumberGenerator`. Tests pass a
/// `ManualClock`, a fixed wall clock, predictable container ids and a seeded generator, so that what the agent
/// decides and reports can be checked exactly and without waiting.
struct AgentEnvironment: Sendable {
    /// The clock the agent sleeps on (retry timers, health check intervals, garbage collection, drain timeouts).
    var clock: any Clock<Duration>
    /// Time elapsed on ``clock`` since the agent was created; the status update and health check machines run on it.
    var uptime: @Sendable () -> Duration
    /// Seconds since 1970, for the timestamps of status updates and of task runs (`launched_at`, `completed_at`).
    var wallClock: @Sendable () -> Double
    /// A new container id, unique on this agent; it also names the run's sandbox and checkpoint directories.
    var makeContainerID: @Sendable () -> ContainerID
    /// The source of status update UUIDs and of the jitter of re-subscription delays.
    var random: any RandomNumberGenerator & Sendable
    /// The host's accounts, which decide the user a task runs as.
    var users: any UserDatabase

    /// An environment on `clock`, whose ``uptime`` starts now.
    init<C: Clock<Duration>>(
        clock: C,
        wallClock: @escaping @Sendable () -> Double,
        makeContainerID: @escaping @Sendable () -> ContainerID,
        random: any RandomNumberGenerator & Sendable,
        users: any UserDatabase = SystemUserDatabase()
    ) {
        self.users = users
        let origin = clock.now
        self.clock = clock
        self.uptime = { origin.duration(to: clock.now) }
        self.wallClock = wallClock
        self.makeContainerID = makeContainerID
        self.random = random
    }

    /// The real world: `ContinuousClock`, `Date()`, lower-case `UUID()` container ids and the system generator.
    static func live() -> AgentEnvironment {
        AgentEnvironment(
            clock: ContinuousClock(),
            wallClock: { Date().timeIntervalSince1970 },
            makeContainerID: { ContainerID(UUID().uuidString.lowercased()) },
            random: SystemRandomNumberGenerator()
        )
    }
}
