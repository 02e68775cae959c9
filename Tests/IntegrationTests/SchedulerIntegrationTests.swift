// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

/// The service scheduler against a real master and three real agents.
@Suite(.serialized) struct SchedulerIntegrationTests {
    static func appTasks(_ scheduler: String, _ app: String) async throws -> [[String: Any]] {
        let response = try await HTTP.get("\(scheduler)/v2/apps\(app)/tasks")
        return (response.json as? [String: Any])?["tasks"] as? [[String: Any]] ?? []
    }

    static func running(_ scheduler: String, _ app: String) async throws -> [[String: Any]] {
        try await self.appTasks(scheduler, app).filter { $0["state"] as? String == "TASK_RUNNING" }
    }

    /// Runs `body`, then stops the scheduler and the cluster whether it threw or not.
    static func run(_ cluster: MasterCluster, _ scheduler: RegattaProcess, _ body: () async throws -> Void) async throws
    {
        do {
            try await body()
        } catch {
            Issue.record("logs:\n\(cluster.logs())\nscheduler: \(scheduler.logTail(20))")
            await scheduler.stop()
            await cluster.stop()
            throw error
        }
        await scheduler.stop()
        await cluster.stop()
    }

    static func waitForScheduler(_ url: String) async throws {
        try await eventually("the scheduler answers /ping") { try await HTTP.get("\(url)/ping").text == "pong" }
    }

    @Test func hostnameUniqueLeavesTheFourthWaitingWithAReason() async throws {
        let cluster = try await MasterCluster(agents: 3, attributes: { "rack:r\($0 % 2)" })
        let (process, scheduler) = try cluster.startScheduler()
        try await Self.run(cluster, process) {
            try await Self.waitForScheduler(scheduler)
            let created = try await HTTP.request(
                .POST,
                "\(scheduler)/v2/apps",
                json: [
                    "id": "/uniq", "cmd": "sleep 300", "cpus": 0.1, "mem": 16, "instances": 4,
                    "constraints": [["hostname", "UNIQUE"]],
                ]
            )
            #expect(created.status == 201, "\(created.text)")
            try await eventually("3 running on distinct hosts") {
                try await Self.running(scheduler, "/uniq").count == 3
            }
            let hosts = Set(try await Self.running(scheduler, "/uniq").compactMap { $0["host"] as? String })
            #expect(hosts.count == 3)
            try await eventually("the queue explains the 4th") {
                let queue = try await HTTP.get("\(scheduler)/v2/queue")
                let entries = (queue.json as? [String: Any])?["queue"] as? [[String: Any]] ?? []
                guard let entry = entries.first, entry["count"] as? Int == 1 else { return false }
                let summary = entry["processedOffersSummary"] as? [String: Any]
                let reasons = summary?["rejectSummaryLastOffers"] as? [[String: Any]] ?? []
                return reasons.contains {
                    $0["reason"] as? String == "UnfulfilledConstraint" && ($0["declined"] as? Int ?? 0) > 0
                }
            }
            #expect(try await Self.running(scheduler, "/uniq").count == 3)
        }
    }

    @Test func groupByRackSpreadsEvenly() async throws {
        let cluster = try await MasterCluster(
            agents: 3,
            agentResources: "cpus:2;mem:1024;disk:512",
            attributes: { "rack:r\($0 % 2)" }
        )
        let (process, scheduler) = try cluster.startScheduler()
        try await Self.run(cluster, process) {
            try await Self.waitForScheduler(scheduler)
            _ = try await HTTP.request(
                .POST,
                "\(scheduler)/v2/apps",
                json: [
                    "id": "/spread", "cmd": "sleep 300", "cpus": 0.1, "mem": 16, "instances": 6,
                    "constraints": [["rack", "GROUP_BY", "2"]],
                ]
            )
            try await eventually("6 running") { try await Self.running(scheduler, "/spread").count == 6 }
            // Agents 0 and 2 are rack r0, agent 1 is r1: an even spread puts 3 on agent-1.
            let hosts = try await Self.running(scheduler, "/spread").compactMap { $0["host"] as? String }
            #expect(hosts.filter { $0 == "agent-1" }.count == 3, "\(hosts)")
        }
    }

    @Test func crashingAppRelaunchDelaysGrow() async throws {
        let cluster = try await MasterCluster(agents: 1)
        let (process, scheduler) = try cluster.startScheduler()
        try await Self.run(cluster, process) {
            try await Self.waitForScheduler(scheduler)
            _ = try await HTTP.request(
                .POST,
                "\(scheduler)/v2/apps",
                json: [
                    "id": "/crash", "cmd": "exit 1", "cpus": 0.1, "mem": 16, "instances": 1,
                    "backoffSeconds": 1, "backoffFactor": 2, "maxLaunchDelaySeconds": 30,
                ]
            )
            // Record when each task first appears at the master; gaps between launches grow ~1 s, 2 s, 4 s.
            var firstSeen: [String: ContinuousClock.Instant] = [:]
            let deadline = ContinuousClock.now + .seconds(40)
            while firstSeen.count < 4 && ContinuousClock.now < deadline {
                let master = try await HTTP.get("\(cluster.masterURL)/master/frameworks")
                let frameworks = (master.json as? [String: Any])?["frameworks"] as? [[String: Any]] ?? []
                for framework in frameworks {
                    for task in (framework["completed_tasks"] as? [[String: Any]] ?? [])
                        + (framework["tasks"] as? [[String: Any]] ?? [])
                    {
                        if let id = task["id"] as? String, firstSeen[id] == nil { firstSeen[id] = .now }
                    }
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            let start = ContinuousClock.now
            let staged = firstSeen.mapValues { String(($0 - start).seconds) }
            let times = staged.values.compactMap(Double.init).sorted()
            let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
            try #require(gaps.count >= 3, "4 launches seen: \(gaps)")
            // Each gap is the backoff (1 s, 2 s, 4 s) plus the task's run time and the wait for the next offer, so
            // check against the configured delays rather than ratios of noisy gaps.
            for (index, delay) in [1.0, 2.0, 4.0].enumerated() {
                #expect(gaps[index] >= delay - 0.2, "launch \(index + 2) waited at least \(delay) s: \(gaps)")
            }
            #expect(gaps[2] > gaps[0] + 1.5, "delays grow: \(gaps)")
            // Between a launch and its failure the instance is not queued; once it failed it waits out its delay there.
            try await eventually(timeout: .seconds(15), "/v2/queue shows the relaunch delay") {
                try await HTTP.get("\(scheduler)/v2/queue").text.contains("timeLeftSeconds")
            }
        }
    }

    @Test func rollingRestartOfAHealthCheckedAppNeverDropsBelowMinimumHealthCapacity() async throws {
        let cluster = try await MasterCluster(agents: 3)
        let (process, scheduler) = try cluster.startScheduler()
        try await Self.run(cluster, process) {
            try await Self.waitForScheduler(scheduler)
            _ = try await HTTP.request(
                .POST,
                "\(scheduler)/v2/apps",
                json: [
                    "id": "/web", "cmd": "exec python3 -m http.server $PORT0", "cpus": 0.1, "mem": 32, "instances": 3,
                    "upgradeStrategy": ["minimumHealthCapacity": 1.0, "maximumOverCapacity": 0.34],
                    "healthChecks": [
                        [
                            "protocol": "HTTP", "path": "/", "portIndex": 0, "intervalSeconds": 1,
                            "timeoutSeconds": 1, "gracePeriodSeconds": 5, "maxConsecutiveFailures": 3,
                        ]
                    ],
                ]
            )
            func healthy() async throws -> Int {
                let app = try await HTTP.get("\(scheduler)/v2/apps/web")
                return ((app.json as? [String: Any])?["app"] as? [String: Any])?["tasksHealthy"] as? Int ?? -1
            }
            try await eventually(timeout: .seconds(40), "3 healthy") { try await healthy() == 3 }
            let before = Set(try await Self.running(scheduler, "/web").compactMap { $0["id"] as? String })
            let restart = try await HTTP.request(.POST, "\(scheduler)/v2/apps/web/restart")
            #expect(restart.status == 200, "\(restart.text)")
            var samples: [Int] = []
            let deadline = ContinuousClock.now + .seconds(60)
            var done = false
            while ContinuousClock.now < deadline && !done {
                samples.append(try await healthy())
                let ids = Set(try await Self.running(scheduler, "/web").compactMap { $0["id"] as? String })
                let deployments = try await HTTP.get("\(scheduler)/v2/deployments")
                done = ids.isDisjoint(with: before) && ids.count == 3 && (deployments.json as? [Any])?.isEmpty == true
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(done, "the restart finished: samples \(samples)")
            #expect(samples.allSatisfy { $0 >= 3 }, "healthy instances sampled during the restart: \(samples)")
        }
    }

    @Test func schedulerRestartMidDeploymentFinishesWithExactlyTheIntendedInstances() async throws {
        let cluster = try await MasterCluster(agents: 3)
        let (process, first) = try cluster.startScheduler()
        var scheduler = first
        try await Self.waitForScheduler(scheduler)
        _ = try await HTTP.request(
            .POST,
            "\(scheduler)/v2/apps",
            json: ["id": "/steady", "cmd": "sleep 300", "cpus": 0.1, "mem": 16, "instances": 6]
        )
        try await eventually("some instances run") { try await Self.running(scheduler, "/steady").count >= 1 }
        kill(process.pid, SIGKILL)
        await process.stop()
        let port = Int(scheduler.split(separator: ":").last!)!
        let (restarted, url) = try cluster.startScheduler(port: port)
        scheduler = url
        try await Self.run(cluster, restarted) {
            try await Self.waitForScheduler(url)
            try await eventually(timeout: .seconds(40), "6 running and the deployment done") {
                let deployments = try await HTTP.get("\(scheduler)/v2/deployments")
                return try await Self.running(scheduler, "/steady").count == 6
                    && (deployments.json as? [Any])?.isEmpty == true
            }
            // Nothing extra on the master: exactly 6 tasks of the scheduler's framework run.
            try await eventually("the master agrees") { try await cluster.metric("master/tasks_running") == 6 }
            try await Task.sleep(for: .seconds(2))
            #expect(try await cluster.metric("master/tasks_running") == 6)
        }
    }
}
