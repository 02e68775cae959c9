// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import RegattaTestKit
import Testing

/// Pure `SchedulerState` scenarios: queue statistics, unreachable strategy, health-aware rollouts.
@Suite struct SchedulerStateTests {
    struct Harness {
        var state = SchedulerState()
        var uuid = 0
        var clock = Duration.zero
        var stamp = 0

        mutating func timestamp() -> String {
            self.stamp += 1
            return String(format: "2027-01-01T00:00:%02d.000Z", self.stamp % 60)
        }

        mutating func add(_ app: AppDefinition) -> AppDefinition {
            let (prepared, action) = self.state.prepare(app, timestamp: self.timestamp())
            self.state.commit(
                prepared,
                deployment: Deployment(id: "d\(self.stamp)", appId: app.id, version: prepared.version!, action: action)
            )
            return prepared
        }

        mutating func offer(_ offers: [Offer]) -> [PlannedLaunch] {
            var counter = self.uuid
            let ts = self.timestamp()
            let result = self.state.match(offers: offers, now: self.clock, timestamp: ts) {
                counter += 1
                return "u\(counter)"
            }
            self.uuid = counter
            return result.launches
        }

        mutating func update(_ task: TaskID, _ state: TaskState, healthy: Bool? = nil) {
            _ = self.state.update(
                TaskStatus(taskId: task, state: state, healthy: healthy),
                now: self.clock,
                timestamp: self.timestamp()
            )
        }

        mutating func runAll(_ launches: [PlannedLaunch]) {
            for launch in launches { for task in launch.tasks { self.update(task.taskId, .running) } }
        }
    }

    @Test func queueCountsRejectionReasons() {
        var h = Harness()
        _ = h.add(Fixture.app(id: "/big", instances: 1, cpus: 8, memMB: 64))
        _ = h.add(Fixture.app(id: "/uniq", instances: 2, cpus: 0.1, memMB: 16, constraints: [["hostname", "UNIQUE"]]))
        _ = h.offer([Fixture.offer("o1", hostname: "h1", cpus: 4)])
        _ = h.offer([Fixture.offer("o2", hostname: "h1", cpus: 4)])
        let big = h.state.offerStatistics["/big"]
        #expect(big?.processedOffersCount == 2)
        #expect(big?.unusedOffersCount == 2)
        #expect(big?.rejections["InsufficientCpus"] == 2)
        let uniq = h.state.offerStatistics["/uniq"]
        #expect(uniq?.rejections["UnfulfilledConstraint"] == 1, "second offer on the same host")
        #expect(uniq?.lastUsedOfferAt != nil)
    }

    @Test func insufficientPortsIsReported() {
        var h = Harness()
        _ = h.add(Fixture.app(id: "/ports", instances: 1, ports: 3))
        _ = h.offer([Fixture.offer("o1", ports: 31000...31001)])
        #expect(h.state.offerStatistics["/ports"]?.rejections["InsufficientPorts"] == 1)
    }

    @Test func unreachableInstanceIsReplacedAfterInactiveAfterAndTheReplacementDiesWhenItReturns() {
        var h = Harness()
        var app = Fixture.app(instances: 1)
        app.unreachableStrategy = UnreachableStrategy(inactiveAfterSeconds: 10, expungeAfterSeconds: 60)
        _ = h.add(app)
        let first = h.offer([Fixture.offer("o1", agent: "a1", hostname: "h1")])
        h.runAll(first)
        let original = first[0].tasks[0].taskId
        h.update(original, .unreachable)
        #expect(
            h.offer([Fixture.offer("o2", agent: "a2", hostname: "h2")]).isEmpty,
            "still counts before inactiveAfter"
        )
        h.clock += .seconds(11)
        let replacement = h.offer([Fixture.offer("o3", agent: "a2", hostname: "h2")])
        #expect(replacement.count == 1)
        h.runAll(replacement)
        // The original comes back: YOUNGEST_FIRST kills the replacement.
        h.update(original, .running)
        let kills = h.state.computeKills(now: h.clock)
        #expect(kills.map(\.taskId) == [replacement[0].tasks[0].taskId])
    }

    @Test func unreachableInstanceIsExpungedAfterExpungeAfter() {
        var h = Harness()
        var app = Fixture.app(instances: 1)
        app.unreachableStrategy = UnreachableStrategy(inactiveAfterSeconds: 5, expungeAfterSeconds: 30)
        _ = h.add(app)
        let first = h.offer([Fixture.offer()])
        h.runAll(first)
        h.update(first[0].tasks[0].taskId, .unreachable)
        h.clock += .seconds(29)
        #expect(h.state.expungeUnreachable(now: h.clock).isEmpty)
        h.clock += .seconds(2)
        #expect(h.state.expungeUnreachable(now: h.clock).count == 1)
        #expect(h.state.instance(forTask: first[0].tasks[0].taskId) == nil)
    }

    @Test func rollingRestartWaitsForHealthyNewInstances() {
        var h = Harness()
        var app = Fixture.app(instances: 2)
        app.healthChecks = [AppHealthCheck(protocol: "HTTP")]
        app = h.add(app)
        let old = h.offer([Fixture.offer("o1")])
        for task in old[0].tasks { h.update(task.taskId, .running, healthy: true) }
        let (restarted, _) = h.state.prepare(app, timestamp: h.timestamp(), restart: true)
        h.state.commit(
            restarted,
            deployment: Deployment(id: "r", appId: app.id, version: restarted.version!, action: "RestartApplication")
        )
        let new = h.offer([Fixture.offer("o2")])
        #expect(new.first?.tasks.count == 2)
        for task in new[0].tasks { h.update(task.taskId, .running) }
        #expect(h.state.computeKills().isEmpty, "running but not yet healthy: no old instance goes")
        h.update(new[0].tasks[0].taskId, .running, healthy: true)
        #expect(h.state.computeKills().count == 1)
    }

    @Test func uniqueRollingRestartOnAFullClusterDoesNotDeadlock() {
        var h = Harness()
        var app = Fixture.app(instances: 2, constraints: [["hostname", "UNIQUE"]])
        app = h.add(app)
        let hosts = [("a1", "h1"), ("a2", "h2")]
        for (agent, host) in hosts { h.runAll(h.offer([Fixture.offer("o-\(agent)", agent: agent, hostname: host)])) }
        #expect(h.state.instances.count == 2)
        let (restarted, _) = h.state.prepare(app, timestamp: h.timestamp(), restart: true)
        h.state.commit(
            restarted,
            deployment: Deployment(id: "r", appId: app.id, version: restarted.version!, action: "RestartApplication")
        )
        // Every host holds an old instance: new ones are refused by the constraint, round after round.
        var kills: [Instance] = []
        for round in 0..<5 where kills.isEmpty {
            for (agent, host) in hosts {
                #expect(h.offer([Fixture.offer("r\(round)-\(agent)", agent: agent, hostname: host)]).isEmpty)
            }
            kills = h.state.computeKills()
        }
        #expect(kills.count == 1, "the breaker gives up one old instance")
        h.update(kills[0].taskId, .killed)
        let freed = kills[0].host == "h1" ? ("a1", "h1") : ("a2", "h2")
        #expect(h.offer([Fixture.offer("free", agent: freed.0, hostname: freed.1)]).count == 1)
    }

    @Test func mesosHealthCheckIsHandedToTheAgent() throws {
        var h = Harness()
        var app = Fixture.app(instances: 1, ports: 1)
        var check = AppHealthCheck(protocol: "MESOS_HTTP", path: "/health", portIndex: 0)
        check.intervalSeconds = 5
        check.maxConsecutiveFailures = 0
        app.healthChecks = [check]
        _ = h.add(app)
        let launch = try #require(h.offer([Fixture.offer()]).first)
        let mesos = try #require(launch.tasks[0].healthCheck)
        #expect(mesos.type == .http)
        #expect(mesos.http?.port == 31000)
        #expect(mesos.http?.path == "/health")
        #expect(mesos.intervalSeconds == 5)
        #expect(mesos.consecutiveFailures == 1, "0 means kill on the first failure for Mesos checks")
    }

    @Test func networksFieldSetsTheDockerNetwork() throws {
        let json =
            #"{"id":"/d","container":{"type":"DOCKER","docker":{"image":"busybox"},"portMappings":[{"containerPort":80}]},"networks":[{"mode":"container/bridge"}]}"#
        let app = try JSONDecoder().decode(AppDefinition.self, from: Data(json.utf8))
        #expect(app.container?.docker?.network == "BRIDGE")
    }
}
