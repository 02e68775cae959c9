// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore
import RegattaScheduler
import Testing

/// A `HealthCheckHost` whose targets the test sets, recording every result change and kill.
final class FakeHealthHost: HealthCheckHost {
    struct Kill: Sendable, Equatable {
        var instanceId: String
        var reason: String
    }

    private let state = Locked<(targets: [HealthCheckTarget], results: [String: [[HealthCheckResult]]], kills: [Kill])>(
        ([], [:], [])
    )

    /// Called on every visit for targets, before answering (e.g. to make the clock jump during a visit).
    private let onVisit: @Sendable () -> Void

    init(onVisit: @escaping @Sendable () -> Void = {}) {
        self.onVisit = onVisit
    }

    func setTargets(_ targets: [HealthCheckTarget]) { self.state.withLock { $0.targets = targets } }
    var kills: [Kill] { self.state.value.kills }
    /// Every result list reported for `instanceId`, in order.
    func reported(_ instanceId: String) -> [[HealthCheckResult]] { self.state.value.results[instanceId] ?? [] }
    var reportedInstanceIds: Set<String> { Set(self.state.value.results.keys) }

    func healthTargets() async -> [HealthCheckTarget] {
        self.onVisit()
        return self.state.value.targets
    }

    func healthResultsChanged(instanceId: String, results: [HealthCheckResult]) async {
        self.state.withLock { $0.results[instanceId, default: []].append(results) }
    }

    func killUnhealthy(instanceId: String, check: AppHealthCheck, reason: String) async {
        self.state.withLock { $0.kills.append(Kill(instanceId: instanceId, reason: reason)) }
    }
}

/// A `HealthChecker` that answers with `behaviour`, recording runs and the most runs in flight at once.
final class FakeHealthChecker: HealthChecker {
    private let behaviour: @Sendable (HealthCheckTarget) async -> HealthCheckOutcome
    private let state = Locked<(runs: [String: Int], running: Int, maxRunning: Int)>(([:], 0, 0))

    init(_ behaviour: @escaping @Sendable (HealthCheckTarget) async -> HealthCheckOutcome) {
        self.behaviour = behaviour
    }

    func runs(_ instanceId: String) -> Int { self.state.value.runs[instanceId] ?? 0 }
    var totalRuns: Int { self.state.value.runs.values.reduce(0, +) }
    var maxRunning: Int { self.state.value.maxRunning }

    func run(_ target: HealthCheckTarget) async -> HealthCheckOutcome {
        self.state.withLock {
            $0.runs[target.instanceId, default: 0] += 1
            $0.running += 1
            $0.maxRunning = max($0.maxRunning, $0.running)
        }
        defer { self.state.withLock { $0.running -= 1 } }
        return await self.behaviour(target)
    }
}

/// Monotonic time that follows the real clock, plus jumps the test injects (to simulate a stalled process).
final class JumpingUptime: Sendable {
    private let start = ContinuousClock.now
    private let offset = Locked(Duration.zero)

    func jump(by duration: Duration) { self.offset.withLock { $0 += duration } }
    var uptime: @Sendable () -> Duration { { ContinuousClock.now - self.start + self.offset.value } }
}

/// A log handler that keeps messages at warning and above, for tests where a warning is part of the contract.
struct RecordingLogHandler: LogHandler {
    let records: Locked<[(message: String, metadata: Logger.Metadata)]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        self.records.withLock { $0.append((event.message.description, event.metadata ?? [:])) }
    }
}

@Suite struct HealthCheckServiceTests {
    typealias F = HealthFixture
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func configuration(maxConcurrent: Int = 64) -> HealthCheckService.Configuration {
        var configuration = HealthCheckService.Configuration()
        configuration.tickInterval = .milliseconds(10)
        configuration.maxConcurrentChecks = maxConcurrent
        configuration.stallThreshold = .milliseconds(500)
        return configuration
    }

    /// Runs the service while `body` runs, then cancels it and waits for it to stop.
    static func withService(
        host: FakeHealthHost,
        checker: FakeHealthChecker,
        configuration: HealthCheckService.Configuration = configuration(),
        uptime: JumpingUptime = JumpingUptime(),
        logger: Logger = Self.logger,
        _ body: () async throws -> Void
    ) async throws {
        let service = HealthCheckService(
            host: host,
            checker: checker,
            configuration: configuration,
            logger: logger,
            uptime: uptime.uptime,
            wallClock: { Date(timeIntervalSince1970: 1_800_000_000) }
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            try await body()
            group.cancelAll()
        }
    }

    /// Polls `condition` every 10 ms for up to `timeout`.
    static func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test func reportsHealthyResultsToTheHost() async throws {
        // Given
        let host = FakeHealthHost()
        host.setTargets([F.target("a", check: F.check(interval: 0.05))])
        let checker = FakeHealthChecker { _ in .healthy }
        // When
        try await Self.withService(host: host, checker: checker) {
            // Then
            #expect(await Self.eventually { host.reported("a").count >= 2 })
        }
        let last = try #require(host.reported("a").last)
        #expect(
            last == [
                HealthCheckResult(
                    alive: true,
                    consecutiveFailures: 0,
                    firstSuccess: "2027-01-15T08:00:00.000Z",
                    lastSuccess: "2027-01-15T08:00:00.000Z",
                    instanceId: "a"
                )
            ]
        )
        #expect(host.kills.isEmpty)
    }

    @Test func killsAnInstanceOnceAfterMaxConsecutiveFailures() async throws {
        // Given
        let host = FakeHealthHost()
        host.setTargets([F.target("bad", check: F.check(interval: 0.02, grace: 0, maxFailures: 2))])
        let checker = FakeHealthChecker { _ in .unhealthy("HTTP 404") }
        // When
        try await Self.withService(host: host, checker: checker) {
            #expect(await Self.eventually { checker.runs("bad") >= 6 })
        }
        // Then: one kill (the next is only after the 30 s kill retry interval)
        #expect(host.kills == [.init(instanceId: "bad", reason: "HTTP 404")])
        #expect(host.reported("bad").first?.first?.consecutiveFailures == 1)
        #expect(host.reported("bad").dropFirst().first?.first?.consecutiveFailures == 2)
    }

    @Test func failuresWithinTheGracePeriodAreNotReported() async throws {
        // Given
        let host = FakeHealthHost()
        host.setTargets([F.target("starting", check: F.check(interval: 0.02, grace: 60, maxFailures: 1))])
        let checker = FakeHealthChecker { _ in .unhealthy("connection refused") }
        // When
        try await Self.withService(host: host, checker: checker) {
            #expect(await Self.eventually { checker.runs("starting") >= 5 })
        }
        // Then
        #expect(host.reported("starting").isEmpty)
        #expect(host.kills.isEmpty)
    }

    @Test func neverRunsMoreChecksAtOnceThanTheLimit() async throws {
        // Given
        let host = FakeHealthHost()
        let ids = (0..<20).map { "i\($0)" }
        host.setTargets(ids.map { F.target($0, check: F.check(interval: 30)) })
        let checker = FakeHealthChecker { _ in
            try? await Task.sleep(for: .milliseconds(30))
            return .healthy
        }
        // When
        try await Self.withService(host: host, checker: checker, configuration: Self.configuration(maxConcurrent: 4)) {
            #expect(await Self.eventually { ids.allSatisfy { host.reported($0).count == 1 } })
        }
        // Then
        #expect(checker.maxRunning == 4)
        #expect(checker.totalRuns == 20)
    }

    @Test func checksThatCannotGetASlotInTimeAreSkippedNotCounted() async throws {
        // Given: one slot, slow failing checks, and more checks due than the slot can serve in an interval
        let host = FakeHealthHost()
        let ids = (0..<6).map { "i\($0)" }
        host.setTargets(ids.map { F.target($0, check: F.check(interval: 0.1, grace: 0, maxFailures: 0)) })
        let checker = FakeHealthChecker { _ in
            try? await Task.sleep(for: .milliseconds(60))
            return .unhealthy("slow failure")
        }
        let records = Locked<[(message: String, metadata: Logger.Metadata)]>([])
        let logger = Logger(label: "test", factory: { _ in RecordingLogHandler(records: records) })
        // When
        // Not a stall test: a loaded machine must not turn late ticks into skipped failures here.
        var configuration = Self.configuration(maxConcurrent: 1)
        configuration.stallThreshold = .seconds(3600)
        try await Self.withService(host: host, checker: checker, configuration: configuration, logger: logger) {
            try await Task.sleep(for: .milliseconds(800))
        }
        // Then: checks were skipped, with a warning naming the limit
        let skips = records.value.filter { $0.message.hasPrefix("Skipped health checks") }
        #expect(!skips.isEmpty)
        #expect(skips.first?.metadata["health.limit"] == "1")
        // And each instance's failure count is its runs (the last run may have been cut short), never more
        #expect(checker.maxRunning == 1)
        for id in ids {
            let counted = host.reported(id).last?.first?.consecutiveFailures ?? 0
            #expect(counted <= checker.runs(id) && counted >= checker.runs(id) - 1)
        }
    }

    @Test func failuresOfChecksRunningDuringAStallAreSkipped() async throws {
        // Given: the process "stalls" for 5 s while the first check of each instance runs
        let host = FakeHealthHost()
        let uptime = JumpingUptime()
        let firstRuns = Locked(Set<String>())
        host.setTargets([F.target("s", check: F.check(interval: 0.05, grace: 0, maxFailures: 1, timeout: 1))])
        let checker = FakeHealthChecker { target in
            let first = firstRuns.withLock { $0.insert(target.instanceId).inserted }
            if first {
                uptime.jump(by: .seconds(5))
                try? await Task.sleep(for: .milliseconds(50))
                return .unhealthy("timed out after 1s")
            }
            return .healthy
        }
        // When
        try await Self.withService(host: host, checker: checker, uptime: uptime) {
            #expect(await Self.eventually { !host.reported("s").isEmpty })
        }
        // Then: the failure was not counted, no kill; later checks count normally
        #expect(host.kills.isEmpty)
        #expect(host.reported("s").allSatisfy { $0.first?.lastFailure == nil })
    }

    @Test func failuresOverlappingAStallSeenByTheTimerAreSkipped() async throws {
        // Given: the first check takes 200 ms (well within its 5 s timeout) and the clock jumps 2 s meanwhile,
        // so only the late tick reveals the stall
        let host = FakeHealthHost()
        let uptime = JumpingUptime()
        let firstRuns = Locked(Set<String>())
        host.setTargets([F.target("t", check: F.check(interval: 0.05, grace: 0, maxFailures: 1, timeout: 5))])
        let checker = FakeHealthChecker { target in
            if firstRuns.withLock({ $0.insert(target.instanceId).inserted }) {
                try? await Task.sleep(for: .milliseconds(50))
                uptime.jump(by: .seconds(2))
                try? await Task.sleep(for: .milliseconds(150))
                return .unhealthy("connection reset")
            }
            return .unhealthy("HTTP 500")
        }
        // When
        try await Self.withService(host: host, checker: checker, uptime: uptime) {
            #expect(await Self.eventually { !host.kills.isEmpty })
        }
        // Then: the kill came from a later, real failure
        #expect(host.kills == [.init(instanceId: "t", reason: "HTTP 500")])
        #expect(host.reported("t").allSatisfy { $0.first?.lastFailureCause != "connection reset" })
    }

    @Test func failuresOverlappingAStallWhileVisitingTheHostAreSkipped() async throws {
        // Given: the first check runs 200 ms and fails; while it runs, the clock jumps 2 s during a visit to the host
        // (the scheduler was busy), after the tick that started the visit woke on time and before the next one
        // was scheduled, so no pending timer spans the stall
        let uptime = JumpingUptime()
        let firstStarted = Locked(false)
        let jumped = Locked(false)
        let host = FakeHealthHost(onVisit: {
            guard firstStarted.value else { return }
            let first = jumped.withLock { done in
                defer { done = true }
                return !done
            }
            if first { uptime.jump(by: .seconds(2)) }
        })
        let firstRuns = Locked(Set<String>())
        host.setTargets([F.target("v", check: F.check(interval: 0.05, grace: 0, maxFailures: 1, timeout: 5))])
        let checker = FakeHealthChecker { target in
            if firstRuns.withLock({ $0.insert(target.instanceId).inserted }) {
                firstStarted.withLock { $0 = true }
                try? await Task.sleep(for: .milliseconds(200))
                return .unhealthy("connection reset")
            }
            return .unhealthy("HTTP 500")
        }
        // When
        try await Self.withService(host: host, checker: checker, uptime: uptime) {
            #expect(await Self.eventually { !host.kills.isEmpty })
        }
        // Then: the stall was seen from the gap between ticks, and the kill came from a later, real failure
        #expect(jumped.value)
        #expect(host.kills == [.init(instanceId: "v", reason: "HTTP 500")])
        #expect(host.reported("v").allSatisfy { $0.first?.lastFailureCause != "connection reset" })
    }

    @Test func skippedAndIgnoredOutcomesAreNotReported() async throws {
        // Given
        let host = FakeHealthHost()
        host.setTargets([
            F.target("skip", check: F.check(interval: 0.02, grace: 0, maxFailures: 1)),
            F.target("ignore", check: F.check(interval: 0.02, grace: 0, maxFailures: 1)),
        ])
        let checker = FakeHealthChecker { $0.instanceId == "skip" ? .skipped : .ignored }
        // When
        try await Self.withService(host: host, checker: checker) {
            #expect(await Self.eventually { checker.runs("skip") >= 5 && checker.runs("ignore") >= 5 })
        }
        // Then
        #expect(host.reportedInstanceIds.isEmpty)
        #expect(host.kills.isEmpty)
    }

    @Test func instancesThatAreGoneAreNoLongerChecked() async throws {
        // Given
        let host = FakeHealthHost()
        host.setTargets([F.target("a", check: F.check(interval: 0.02)), F.target("b", check: F.check(interval: 0.02))])
        let checker = FakeHealthChecker { _ in .healthy }
        try await Self.withService(host: host, checker: checker) {
            #expect(await Self.eventually { checker.runs("a") >= 2 && checker.runs("b") >= 2 })
            // When
            host.setTargets([F.target("b", check: F.check(interval: 0.02))])
            try await Task.sleep(for: .milliseconds(50))
            let runs = checker.runs("a")
            let reports = host.reported("a").count
            let runsOfB = checker.runs("b")
            // Then: b goes on being checked (a few more rounds, however slow the machine) while a is not
            #expect(await Self.eventually { checker.runs("b") >= runsOfB + 3 })
            #expect(checker.runs("a") == runs)
            #expect(host.reported("a").count == reports)
        }
    }

    @Test func stopsPromptlyWhenCancelledWhileChecksRun() async throws {
        // Given: checks that take a minute unless cancelled
        let host = FakeHealthHost()
        host.setTargets([F.target("slow", check: F.check(interval: 1, grace: 0, maxFailures: 1, timeout: 60))])
        let checker = FakeHealthChecker { _ in
            do {
                try await Task.sleep(for: .seconds(60))
                return .healthy
            } catch {
                return .unhealthy("cancelled")
            }
        }
        let started = ContinuousClock.now
        // When
        try await Self.withService(host: host, checker: checker) {
            #expect(await Self.eventually { checker.runs("slow") == 1 })
        }
        // Then: stopped at once, and the cancelled run was not counted
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(host.reportedInstanceIds.isEmpty)
        #expect(host.kills.isEmpty)
    }
}
