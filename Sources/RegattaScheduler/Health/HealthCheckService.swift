// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import ServiceLifecycle

/// Runs the scheduler-side health checks (HTTP, HTTPS, TCP) of every running instance, reports their
/// results to the scheduler and asks it to kill instances that fail too often (see ``HealthTracker``).
///
/// Every `tickInterval` it asks the host for the current targets, and starts the checks that are due, at most
/// `maxConcurrentChecks` at a time; a freed slot is refilled at once. Protections against killing healthy
/// services when the scheduler itself is the problem (Marathon's busy-leader and network-blip complaints):
/// - A check that waited for a slot for more than its whole interval is skipped, not run late, and never counts
///   as a failure.
/// - When the service was stalled (its timer fired more than `stallThreshold` late: a suspended process, an
///   overloaded machine), failures of checks that were running during the stall are skipped, and so is a failure
///   whose run took longer than its timeout plus `stallThreshold` (its timer could not fire on time).
/// - A failure is never counted after the service was cancelled.
public struct HealthCheckService: Service {
    /// Settings of the service.
    public struct Configuration: Sendable {
        /// Time between polls of the host for targets and due checks. Defaults to `250` milliseconds.
        public var tickInterval: Duration = .milliseconds(250)
        /// The most checks running at once. Defaults to `64`.
        public var maxConcurrentChecks = 64
        /// How late a tick may fire before the service counts itself as stalled. Defaults to `1` second.
        public var stallThreshold: Duration = .seconds(1)
        /// The state machine's settings.
        public var tracker = HealthTracker.Configuration()

        /// Creates the default configuration.
        public init() {}
    }

    private let host: any HealthCheckHost
    private let checker: any HealthChecker
    private let configuration: Configuration
    private let logger: Logger
    private let uptime: @Sendable () -> Duration
    private let wallClock: @Sendable () -> Date

    /// Creates the service.
    /// - Parameters:
    ///   - host: The scheduler: the source of targets and the receiver of results and kill decisions.
    ///   - checker: Runs one check; ``NetworkHealthChecker`` in production.
    ///   - uptime: Monotonic time since the scheduler started (the same clock the scheduler uses).
    ///   - wallClock: The time stamped on results.
    public init(
        host: any HealthCheckHost,
        checker: any HealthChecker,
        configuration: Configuration = Configuration(),
        logger: Logger,
        uptime: @escaping @Sendable () -> Duration,
        wallClock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.host = host
        self.checker = checker
        self.configuration = configuration
        self.logger = logger
        self.uptime = uptime
        self.wallClock = wallClock
    }

    public func run() async throws {
        // Checks in flight are cancelled on shutdown; their outcomes are dropped.
        await cancelWhenGracefulShutdown { await self.loop() }
    }

    // MARK: - Loop

    private enum Event: Sendable {
        /// The tick timer fired: it was due at `scheduled` and ran at `woke`.
        case tick(scheduled: Duration, woke: Duration)
        case completed(Completion)
    }

    private struct Completion: Sendable {
        var target: HealthCheckTarget
        var outcome: HealthCheckOutcome
        var started: Duration
        var finished: Duration
        var timestamp: String
    }

    /// The loop's mutable state; only the loop touches it.
    private struct LoopState {
        var tracker: HealthTracker
        var running = 0
        /// Due checks waiting for a slot, earliest first (refreshed every tick).
        var waiting: [HealthTracker.DueCheck] = []
        var waitingIndex = 0
        /// Recent periods during which the service was stalled.
        var stalls: [ClosedRange<Duration>] = []
        /// When the previous tick woke: the next one is due one interval later at the latest, even if handling the
        /// previous tick (its visit to the host) took long, so a stall during that handling is seen too.
        var lastWoke: Duration?
    }

    private func loop() async {
        let tick = self.configuration.tickInterval
        await withTaskGroup(of: Event.self) { group in
            var state = LoopState(tracker: HealthTracker(configuration: self.configuration.tracker))
            self.addTick(to: &group, after: .zero)
            while let event = await group.next() {
                if Task.isCancelled { break }
                switch event {
                case .tick(let scheduled, let woke):
                    let due = state.lastWoke.map { min(scheduled, $0 + tick) } ?? scheduled
                    state.lastWoke = woke
                    self.noteStall(from: due, to: woke, state: &state)
                    await self.round(&state, group: &group)
                    self.addTick(to: &group, after: tick)
                case .completed(let completion):
                    state.running -= 1
                    await self.complete(completion, state: &state)
                    self.startWaiting(&state, group: &group, now: self.uptime())
                }
            }
            group.cancelAll()
        }
    }

    private func addTick(to group: inout TaskGroup<Event>, after delay: Duration) {
        let uptime = self.uptime
        let scheduled = uptime() + delay
        group.addTask {
            try? await Task.sleep(for: delay)
            return .tick(scheduled: scheduled, woke: uptime())
        }
    }

    /// One poll: refresh the targets, skip what waited too long, start what is due.
    private func round(_ state: inout LoopState, group: inout TaskGroup<Event>) async {
        let targets = await self.host.healthTargets()
        let now = self.uptime()
        let forgotten = state.tracker.sync(targets: targets, now: now)
        if !forgotten.isEmpty {
            self.logger.trace("Stopped health checks of instances", metadata: ["count": "\(forgotten.count)"])
        }
        state.waiting = state.tracker.dueChecks(now: now)
        state.waitingIndex = 0
        let skipped = self.startWaiting(&state, group: &group, now: now)
        if skipped > 0 {
            self.logger.warning(
                "Skipped health checks that waited longer than their interval; raise maxConcurrentChecks",
                metadata: [
                    "count": "\(skipped)", "health.running": "\(state.running)",
                    "health.limit": "\(self.configuration.maxConcurrentChecks)",
                ]
            )
        }
    }

    /// Starts waiting checks while there are free slots, and skips those that missed their interval.
    /// - Returns: The number skipped.
    @discardableResult
    private func startWaiting(_ state: inout LoopState, group: inout TaskGroup<Event>, now: Duration) -> Int {
        var skipped = 0
        while state.waitingIndex < state.waiting.count {
            let due = state.waiting[state.waitingIndex]
            guard state.tracker.isDue(due.target, now: now) else {
                state.waitingIndex += 1
                continue
            }
            if due.isOverdue(at: now) {
                _ = state.tracker.apply(.skipped, for: due.target, now: now, timestamp: "")
                skipped += 1
                state.waitingIndex += 1
                continue
            }
            guard state.running < self.configuration.maxConcurrentChecks else { break }
            state.waitingIndex += 1
            state.tracker.checkStarted(due.target, now: now)
            state.running += 1
            let checker = self.checker
            let uptime = self.uptime
            let wallClock = self.wallClock
            let target = due.target
            group.addTask {
                let started = uptime()
                let outcome = await checker.run(target)
                let finished = uptime()
                return .completed(
                    Completion(
                        target: target,
                        outcome: outcome,
                        started: started,
                        finished: finished,
                        timestamp: Self.format(wallClock())
                    )
                )
            }
        }
        return skipped
    }

    private func complete(_ completion: Completion, state: inout LoopState) async {
        var outcome = completion.outcome
        if case .unhealthy(let cause) = outcome, self.wasStalled(during: completion, state: state) {
            self.logger.debug(
                "Health check failure during a stall skipped",
                metadata: ["task.id": "\(completion.target.taskId.value)", "health.cause": "\(cause)"]
            )
            outcome = .skipped
        }
        let changes = state.tracker.apply(
            outcome,
            for: completion.target,
            now: completion.finished,
            timestamp: completion.timestamp
        )
        if let results = changes.results {
            await self.host.healthResultsChanged(instanceId: completion.target.instanceId, results: results)
        }
        if let kill = changes.kill {
            self.logger.debug(
                "Health check failed too often",
                metadata: ["task.id": "\(kill.taskId.value)", "health.cause": "\(kill.reason)"]
            )
            await self.host.killUnhealthy(instanceId: kill.instanceId, check: kill.check, reason: kill.reason)
        }
    }

    // MARK: - Stalls

    private func noteStall(from scheduled: Duration, to woke: Duration, state: inout LoopState) {
        guard woke - scheduled > self.configuration.stallThreshold else { return }
        self.logger.warning(
            "Health checking was stalled; failures seen meanwhile are not counted",
            metadata: ["health.stall": "\(NetworkHealthChecker.describe(woke - scheduled))"]
        )
        state.stalls.append(scheduled...woke)
        if state.stalls.count > 32 { state.stalls.removeFirst(state.stalls.count - 32) }
    }

    /// Whether the service was stalled while `completion` ran, or the run overshot its timeout so far that its own
    /// timer must have fired late (which also covers a stall whose tick has not been handled yet).
    private func wasStalled(during completion: Completion, state: LoopState) -> Bool {
        let threshold = self.configuration.stallThreshold
        let timeout = Duration.seconds(max(completion.target.check.timeoutSeconds, 0))
        if completion.finished - completion.started > timeout + threshold { return true }
        let run = completion.started...completion.finished
        return state.stalls.contains { $0.overlaps(run) }
    }

    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
