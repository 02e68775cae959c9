// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaScheduler
import Testing

/// Health check targets and time for `HealthTracker` tests: time is explicit (`now` in seconds since start).
enum HealthFixture {
    static func check(
        interval: Double = 10,
        grace: Double = 30,
        maxFailures: Int = 3,
        timeout: Double = 5,
        protocol: String = "HTTP",
        path: String = "/health"
    ) -> AppHealthCheck {
        var check = AppHealthCheck(protocol: `protocol`, path: path, portIndex: 0)
        check.intervalSeconds = interval
        check.gracePeriodSeconds = grace
        check.maxConsecutiveFailures = maxFailures
        check.timeoutSeconds = timeout
        return check
    }

    static func target(
        _ instance: String = "web.instance-1",
        task: String? = nil,
        index: Int = 0,
        check: AppHealthCheck = HealthFixture.check(),
        host: String = "agent-0",
        ports: [Int] = [31000]
    ) -> HealthCheckTarget {
        HealthCheckTarget(
            appId: "/web",
            instanceId: instance,
            taskId: TaskID(task ?? "\(instance)._app.1"),
            version: "v1",
            host: host,
            ports: ports,
            index: index,
            check: check
        )
    }

    static func at(_ seconds: Double) -> Duration { .seconds(seconds) }
}

@Suite struct HealthTrackerTests {
    typealias F = HealthFixture

    /// Starts `target` at `now` and applies `outcome` at the same time, stamped `t<now>`.
    private func run(
        _ tracker: inout HealthTracker,
        _ target: HealthCheckTarget,
        _ outcome: HealthCheckOutcome,
        at now: Double
    ) -> HealthTracker.Changes {
        tracker.checkStarted(target, now: F.at(now))
        return tracker.apply(outcome, for: target, now: F.at(now), timestamp: "t\(Int(now))")
    }

    // MARK: - Schedule

    @Test func firstCheckIsDueAsSoonAsTheInstanceIsSeenRunning() {
        // Given
        var tracker = HealthTracker()
        let target = F.target()
        // When
        let forgotten = tracker.sync(targets: [target], now: F.at(5))
        // Then
        #expect(forgotten.isEmpty)
        #expect(tracker.dueChecks(now: F.at(5)) == [HealthTracker.DueCheck(target: target, dueAt: F.at(5))])
        #expect(tracker.trackedCheckCount == 1)
        #expect(
            tracker.results(for: target.instanceId)
                == [HealthCheckResult(alive: false, consecutiveFailures: 0, instanceId: target.instanceId)]
        )
    }

    @Test func nextCheckIsDueOneIntervalAfterTheStartAndNeverWhileRunning() {
        // Given
        var tracker = HealthTracker()
        let target = F.target(check: F.check(interval: 10))
        tracker.sync(targets: [target], now: F.at(0))
        // When
        tracker.checkStarted(target, now: F.at(1))
        // Then: not due while it runs, even past its interval
        #expect(tracker.dueChecks(now: F.at(1)).isEmpty)
        #expect(tracker.dueChecks(now: F.at(30)).isEmpty)
        #expect(!tracker.isDue(target, now: F.at(30)))
        // When it ends before the next slot
        _ = tracker.apply(.healthy, for: target, now: F.at(2), timestamp: "t2")
        // Then
        #expect(tracker.dueChecks(now: F.at(10.9)).isEmpty)
        #expect(tracker.dueChecks(now: F.at(11)).map(\.dueAt) == [F.at(11)])
        #expect(tracker.isDue(target, now: F.at(11)))
    }

    @Test func aCheckThatRanLongerThanItsIntervalIsDueAgainAtOnce() {
        // Given
        var tracker = HealthTracker()
        let target = F.target(check: F.check(interval: 1, timeout: 20))
        tracker.sync(targets: [target], now: F.at(0))
        tracker.checkStarted(target, now: F.at(0))
        // When
        _ = tracker.apply(.unhealthy("slow"), for: target, now: F.at(15), timestamp: "t15")
        // Then
        #expect(tracker.dueChecks(now: F.at(15)).map(\.dueAt) == [F.at(1)])
    }

    @Test func dueChecksAreOrderedEarliestFirst() {
        // Given
        var tracker = HealthTracker()
        let a = F.target("a", check: F.check(interval: 5))
        let b = F.target("b", check: F.check(interval: 2))
        tracker.sync(targets: [a, b], now: F.at(0))
        _ = self.run(&tracker, a, .healthy, at: 0)
        _ = self.run(&tracker, b, .healthy, at: 0)
        // When
        let due = tracker.dueChecks(now: F.at(6))
        // Then
        #expect(due.map(\.target.instanceId) == ["b", "a"])
        #expect(due.map(\.dueAt) == [F.at(2), F.at(5)])
    }

    @Test func aDueCheckIsOverdueOnlyAfterMissingAWholeInterval() {
        let due = HealthTracker.DueCheck(target: F.target(check: F.check(interval: 10)), dueAt: F.at(100))
        #expect(due.lateness(at: F.at(104)) == F.at(4))
        #expect(!due.isOverdue(at: F.at(110)))
        #expect(due.isOverdue(at: F.at(110.001)))
    }

    @Test func aCheckSkippedBeforeItStartedIsDueOneIntervalLater() {
        // Given
        var tracker = HealthTracker()
        let target = F.target(check: F.check(interval: 10))
        tracker.sync(targets: [target], now: F.at(0))
        // When: it waited for a slot and was skipped at 12
        let changes = tracker.apply(.skipped, for: target, now: F.at(12), timestamp: "t12")
        // Then
        #expect(changes == .none)
        #expect(tracker.dueChecks(now: F.at(21)).isEmpty)
        #expect(tracker.isDue(target, now: F.at(22)))
    }

    // MARK: - Grace period and first success

    @Test func failuresWithinTheGracePeriodBeforeAFirstSuccessAreIgnored() {
        // Given
        var tracker = HealthTracker()
        let target = F.target(check: F.check(interval: 1, grace: 30, maxFailures: 1))
        tracker.sync(targets: [target], now: F.at(100))
        // When: failures until just before the end of grace
        var all: [HealthTracker.Changes] = []
        for second in stride(from: 100.0, through: 129.0, by: 1) {
            all.append(self.run(&tracker, target, .unhealthy("connection refused"), at: second))
        }
        // Then
        #expect(all.allSatisfy { $0 == .none })
        #expect(tracker.results(for: target.instanceId)[0].consecutiveFailures == 0)
        #expect(tracker.results(for: target.instanceId)[0].lastFailure == nil)
    }

    @Test func aFailureAtTheEndOfTheGracePeriodCounts() {
        // Given
        var tracker = HealthTracker()
        let target = F.target(check: F.check(grace: 30, maxFailures: 3))
        tracker.sync(targets: [target], now: F.at(100))
        // When
        let changes = self.run(&tracker, target, .unhealthy("HTTP 503"), at: 130)
        // Then
        #expect(
            changes.results == [
                HealthCheckResult(
                    alive: false,
                    consecutiveFailures: 1,
                    lastFailure: "t130",
                    lastFailureCause: "HTTP 503",
                    instanceId: target.instanceId
                )
            ]
        )
        #expect(changes.kill == nil)
    }

    @Test func afterAFirstSuccessFailuresCountEvenWithinTheGracePeriod() {
        // Given
        var tracker = HealthTracker()
        let target = F.target(check: F.check(grace: 300, maxFailures: 2))
        tracker.sync(targets: [target], now: F.at(0))
        _ = self.run(&tracker, target, .healthy, at: 1)
        // When
        let first = self.run(&tracker, target, .unhealthy("HTTP 500"), at: 11)
        let second = self.run(&tracker, target, .unhealthy("HTTP 500"), at: 21)
        // Then
        #expect(first.results?.first?.consecutiveFailures == 1)
        #expect(first.kill == nil)
        #expect(second.results?.first?.consecutiveFailures == 2)
        #expect(second.kill?.instanceId == target.instanceId)
    }

    @Test func gracePeriodIsPerCheckFirstSuccess() {
        // Given: two checks; only the first has succeeded
        var tracker = HealthTracker()
        let a = F.target(index: 0, check: F.check(grace: 60, maxFailures: 1, path: "/a"))
        let b = F.target(index: 1, check: F.check(grace: 60, maxFailures: 1, path: "/b"))
        tracker.sync(targets: [a, b], now: F.at(0))
        _ = self.run(&tracker, a, .healthy, at: 1)
        // When
        let bFails = self.run(&tracker, b, .unhealthy("refused"), at: 2)
        let aFails = self.run(&tracker, a, .unhealthy("refused"), at: 11)
        // Then
        #expect(bFails == .none)
        #expect(aFails.kill?.check == a.check)
    }

    // MARK: - Results

    @Test func successesSetFirstAndLastSuccessAndResetFailures() {
        // Given
        var tracker = HealthTracker()
        let target = F.target(check: F.check(grace: 0, maxFailures: 5))
        tracker.sync(targets: [target], now: F.at(0))
        // When
        let first = self.run(&tracker, target, .healthy, at: 1)
        _ = self.run(&tracker, target, .unhealthy("HTTP 500"), at: 11)
        _ = self.run(&tracker, target, .unhealthy("HTTP 502"), at: 21)
        let recovered = self.run(&tracker, target, .healthy, at: 31)
        // Then
        #expect(
            first.results == [
                HealthCheckResult(
                    alive: true,
                    consecutiveFailures: 0,
                    firstSuccess: "t1",
                    lastSuccess: "t1",
                    instanceId: target.instanceId
                )
            ]
        )
        #expect(
            recovered.results == [
                HealthCheckResult(
                    alive: true,
                    consecutiveFailures: 0,
                    firstSuccess: "t1",
                    lastSuccess: "t31",
                    lastFailure: "t21",
                    lastFailureCause: "HTTP 502",
                    instanceId: target.instanceId
                )
            ]
        )
    }

    @Test func resultsListEveryTrackedCheckInIndexOrder() {
        // Given
        var tracker = HealthTracker()
        let checks = (0..<3).map { F.target(index: $0, check: F.check(grace: 0, path: "/\($0)")) }
        tracker.sync(targets: checks.reversed(), now: F.at(0))
        // When
        let changes = self.run(&tracker, checks[1], .healthy, at: 1)
        // Then
        #expect(changes.results?.map(\.alive) == [false, true, false])
        #expect(tracker.results(for: "web.instance-1").map(\.alive) == [false, true, false])
    }

    @Test func skippedAndIgnoredOutcomesChangeNothing() {
        // Given: one success, one counted failure
        var tracker = HealthTracker()
        let target = F.target(check: F.check(grace: 0, maxFailures: 2))
        tracker.sync(targets: [target], now: F.at(0))
        _ = self.run(&tracker, target, .healthy, at: 1)
        _ = self.run(&tracker, target, .unhealthy("HTTP 500"), at: 11)
        let before = tracker.results(for: target.instanceId)
        // When
        let skipped = self.run(&tracker, target, .skipped, at: 21)
        let ignored = self.run(&tracker, target, .ignored, at: 31)
        // Then: not a success (no reset), not a failure (no kill at max 2)
        #expect(skipped == .none)
        #expect(ignored == .none)
        #expect(tracker.results(for: target.instanceId) == before)
        // And the check keeps its schedule
        #expect(tracker.isDue(target, now: F.at(41)))
        let next = self.run(&tracker, target, .unhealthy("HTTP 500"), at: 41)
        #expect(next.results?.first?.consecutiveFailures == 2)
        #expect(next.kill != nil)
    }

    // MARK: - Kill rule

    @Test func reachingMaxConsecutiveFailuresDecidesAKill() {
        // Given
        var tracker = HealthTracker()
        let check = F.check(grace: 0, maxFailures: 3)
        let target = F.target(check: check)
        tracker.sync(targets: [target], now: F.at(0))
        // When
        let changes = (1...3).map { self.run(&tracker, target, .unhealthy("HTTP 404"), at: Double($0 * 10)) }
        // Then
        #expect(changes.map { $0.kill == nil } == [true, true, false])
        #expect(
            changes[2].kill
                == HealthTracker.Kill(
                    instanceId: target.instanceId,
                    taskId: target.taskId,
                    check: check,
                    reason: "HTTP 404"
                )
        )
        #expect(changes[2].results?.first?.consecutiveFailures == 3)
    }

    @Test func aSuccessBetweenFailuresStartsTheCountAgain() {
        // Given
        var tracker = HealthTracker()
        let target = F.target(check: F.check(grace: 0, maxFailures: 2))
        tracker.sync(targets: [target], now: F.at(0))
        // When
        let outcomes: [HealthCheckOutcome] = [.unhealthy("x"), .healthy, .unhealthy("x"), .healthy, .unhealthy("x")]
        let changes = outcomes.enumerated().map { self.run(&tracker, target, $1, at: Double($0 * 10)) }
        // Then
        #expect(changes.allSatisfy { $0.kill == nil })
    }

    @Test func maxConsecutiveFailuresZeroNeverKills() {
        // Given
        var tracker = HealthTracker()
        let target = F.target(check: F.check(grace: 0, maxFailures: 0))
        tracker.sync(targets: [target], now: F.at(0))
        // When
        let changes = (0..<50).map { self.run(&tracker, target, .unhealthy("down"), at: Double($0 * 10)) }
        // Then
        #expect(changes.allSatisfy { $0.kill == nil })
        #expect(tracker.results(for: target.instanceId).first?.consecutiveFailures == 50)
    }

    @Test func furtherFailuresKillAgainOnlyAfterTheRetryInterval() {
        // Given
        var configuration = HealthTracker.Configuration()
        configuration.killRetryInterval = .seconds(30)
        var tracker = HealthTracker(configuration: configuration)
        let target = F.target(check: F.check(interval: 10, grace: 0, maxFailures: 1))
        tracker.sync(targets: [target], now: F.at(0))
        // When
        let kills = stride(from: 0.0, through: 60, by: 10).map {
            self.run(&tracker, target, .unhealthy("down"), at: $0).kill != nil
        }
        // Then: at 0, then 30 and 60
        #expect(kills == [true, false, false, true, false, false, true])
    }

    // MARK: - Sync

    @Test func instancesThatAreGoneAreForgotten() {
        // Given
        var tracker = HealthTracker()
        let a = F.target("a")
        let b = F.target("b")
        tracker.sync(targets: [a, b], now: F.at(0))
        tracker.checkStarted(a, now: F.at(0))
        // When
        let forgotten = tracker.sync(targets: [b], now: F.at(1))
        // Then
        #expect(forgotten == ["a"])
        #expect(tracker.trackedInstanceIds == ["b"])
        #expect(tracker.results(for: "a").isEmpty)
        // And a late outcome for it changes nothing
        #expect(tracker.apply(.unhealthy("late"), for: a, now: F.at(400), timestamp: "t400") == .none)
        #expect(tracker.trackedInstanceIds == ["b"])
    }

    @Test func aNewTaskForTheSameInstanceStartsOverWithANewGracePeriod() {
        // Given: the old task has a success and a failure
        var tracker = HealthTracker()
        let check = F.check(grace: 30, maxFailures: 1)
        let old = F.target(task: "web.instance-1._app.1", check: check)
        tracker.sync(targets: [old], now: F.at(0))
        _ = self.run(&tracker, old, .healthy, at: 1)
        // When the instance is relaunched as a new task
        let new = F.target(task: "web.instance-1._app.2", check: check)
        tracker.sync(targets: [new], now: F.at(100))
        // Then
        #expect(
            tracker.results(for: new.instanceId)
                == [HealthCheckResult(alive: false, consecutiveFailures: 0, instanceId: new.instanceId)]
        )
        #expect(tracker.isDue(new, now: F.at(100)))
        #expect(self.run(&tracker, new, .unhealthy("refused"), at: 120) == .none)
        #expect(tracker.apply(.unhealthy("late"), for: old, now: F.at(121), timestamp: "t121") == .none)
        #expect(self.run(&tracker, new, .unhealthy("refused"), at: 130).kill?.taskId == new.taskId)
    }

    @Test func aChangedCheckDefinitionStartsOverButKeepsTheInstanceGracePeriod() {
        // Given
        var tracker = HealthTracker()
        let before = F.target(check: F.check(grace: 30, maxFailures: 1, path: "/old"))
        tracker.sync(targets: [before], now: F.at(0))
        _ = self.run(&tracker, before, .healthy, at: 1)
        tracker.checkStarted(before, now: F.at(11))
        // When
        let after = F.target(check: F.check(grace: 30, maxFailures: 1, path: "/new"))
        tracker.sync(targets: [after], now: F.at(12))
        // Then: fresh results, due now, and the old run's outcome is dropped
        #expect(tracker.results(for: after.instanceId).first?.firstSuccess == nil)
        #expect(tracker.isDue(after, now: F.at(12)))
        #expect(tracker.apply(.unhealthy("old"), for: before, now: F.at(13), timestamp: "t13") == .none)
        // And grace still runs from when the instance was first seen (0), not from the change
        #expect(self.run(&tracker, after, .unhealthy("refused"), at: 29) == .none)
        #expect(self.run(&tracker, after, .unhealthy("refused"), at: 31).kill != nil)
    }

    @Test func aMovedTargetKeepsItsState() {
        // Given
        var tracker = HealthTracker()
        let target = F.target(check: F.check(grace: 0), host: "agent-0", ports: [31000])
        tracker.sync(targets: [target], now: F.at(0))
        _ = self.run(&tracker, target, .healthy, at: 1)
        // When the host/ports of the same task change (e.g. the agent re-registered under another name)
        let moved = F.target(check: F.check(grace: 0), host: "agent-0.local", ports: [31001])
        tracker.sync(targets: [moved], now: F.at(2))
        // Then
        #expect(tracker.results(for: moved.instanceId).first?.firstSuccess == "t1")
        #expect(tracker.dueChecks(now: F.at(11)).first?.target == moved)
    }

    @Test func aCheckRemovedFromAnInstanceIsNoLongerReported() {
        // Given
        var tracker = HealthTracker()
        let a = F.target(index: 0, check: F.check(path: "/a"))
        let b = F.target(index: 1, check: F.check(path: "/b"))
        tracker.sync(targets: [a, b], now: F.at(0))
        // When
        tracker.sync(targets: [a], now: F.at(1))
        // Then
        #expect(tracker.trackedCheckCount == 1)
        #expect(tracker.results(for: a.instanceId).count == 1)
        #expect(tracker.apply(.healthy, for: b, now: F.at(2), timestamp: "t2") == .none)
    }
}
