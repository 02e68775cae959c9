// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Two `regatta scheduler --zk` processes sharing a fresh PostgreSQL database, one ZooKeeper (REGATTA_TEST_ZK), a real
/// master and agent: the follower proxies, a SIGKILLed leader is replaced without touching running tasks, and
/// repeated abdication leaves one agreed leader.
@Suite(
    .serialized,
    .enabled(
        if: ServiceEnvironment.zooKeeper != nil && ServiceEnvironment.postgresURL != nil && HACluster.psql != nil,
        "needs REGATTA_TEST_ZK and REGATTA_TEST_PG_URL with psql (scripts/test.sh starts both)"
    )
)
struct SchedulerElectionTests {
    /// The master and agent, the database, and two scheduler processes.
    final class Setup: @unchecked Sendable {
        let cluster: MasterCluster
        let database = "regatta_election_" + UUID().uuidString.prefix(8).lowercased()
        let storeURL: String
        let zooKeeperURL: String
        let ports = [freePort(), freePort()]
        var schedulers: [RegattaProcess?] = [nil, nil]

        init() async throws {
            guard let base = ServiceEnvironment.postgresURL, var components = URLComponents(string: base),
                let zooKeeperURL = ServiceEnvironment.zooKeeperURL(path: "/election-\(UUID().uuidString.prefix(8))")
            else { throw CancellationError() }
            components.path = "/" + self.database
            self.storeURL = components.string!
            self.zooKeeperURL = zooKeeperURL
            try HACluster.sql("CREATE DATABASE \(self.database)")
            self.cluster = try await MasterCluster(agents: 1)
        }

        func url(_ index: Int) -> String { "http://127.0.0.1:\(self.ports[index])" }

        func start(_ index: Int) throws {
            self.schedulers[index] = try RegattaProcess(
                [
                    "scheduler", "--master", "127.0.0.1:\(self.cluster.masterPort)", "--zk", self.zooKeeperURL,
                    "--zk_session_timeout", "4secs", "--http_port", "\(self.ports[index])", "--store", self.storeURL,
                ],
                log: self.cluster.workDir.appendingPathComponent(
                    "scheduler-\(index)-\(UUID().uuidString.prefix(4)).log"
                )
            )
        }

        func sigkill(_ index: Int) async {
            guard let process = self.schedulers[index] else { return }
            kill(process.pid, SIGKILL)
            process.process.waitUntilExit()
            self.schedulers[index] = nil
        }

        /// The leader every running scheduler names (`host:port`), or `nil` while they disagree or none leads.
        func agreedLeader() async -> String? {
            var named: Set<String> = []
            for index in self.schedulers.indices where self.schedulers[index]?.process.isRunning == true {
                guard let response = try? await HTTP.get("\(self.url(index))/v2/leader"), response.status == 200,
                    let leader = (response.json as? [String: Any])?["leader"] as? String
                else { return nil }
                named.insert(leader)
            }
            return named.count == 1 ? named.first : nil
        }

        func leaderIndex() async -> Int? {
            guard let leader = await self.agreedLeader() else { return nil }
            return self.ports.firstIndex { leader == "127.0.0.1:\($0)" }
        }

        /// Ids of the app's running tasks as scheduler `index` reports them (a follower proxies the call).
        func runningTaskIDs(_ app: String, via index: Int) async throws -> [String] {
            let response = try await HTTP.get("\(self.url(index))/v2/apps\(app)/tasks")
            let tasks = (response.json as? [String: Any])?["tasks"] as? [[String: Any]] ?? []
            return tasks.filter { $0["state"] as? String == "TASK_RUNNING" }.compactMap { $0["id"] as? String }.sorted()
        }

        /// Ids of running tasks at the master, duplicates kept.
        func runningTaskIDsAtMaster() async throws -> [String] {
            let state = try await HTTP.get("\(self.cluster.masterURL)/master/state")
            let root = state.json as? [String: Any] ?? [:]
            var tasks: [[String: Any]] = root["orphan_tasks"] as? [[String: Any]] ?? []
            for framework in root["frameworks"] as? [[String: Any]] ?? [] {
                tasks += framework["tasks"] as? [[String: Any]] ?? []
            }
            return tasks.filter { $0["state"] as? String == "TASK_RUNNING" }.compactMap { $0["id"] as? String }.sorted()
        }

        func logs() -> String {
            self.cluster.logs() + "\n"
                + self.schedulers.enumerated().map {
                    "scheduler-\($0.offset): " + ($0.element?.logTail(30) ?? "stopped")
                }
                .joined(separator: "\n")
        }

        func stop() async {
            for process in self.schedulers { await process?.stop() }
            await self.cluster.stop()
            try? HACluster.sql("DROP DATABASE IF EXISTS \(self.database) WITH (FORCE)")
        }

        /// Starts scheduler 0, waits until it leads, starts scheduler 1 and waits until both name scheduler 0.
        func startBoth() async throws {
            try self.start(0)
            try await eventually(timeout: .seconds(60), "scheduler 0 leads") { await self.leaderIndex() == 0 }
            try self.start(1)
            try await eventually(timeout: .seconds(60), "both schedulers name scheduler 0") {
                guard await self.leaderIndex() == 0, self.schedulers[1]?.process.isRunning == true else { return false }
                return (try? await HTTP.get("\(self.url(1))/v2/leader").status) == 200
            }
        }
    }

    static func run(_ body: (Setup) async throws -> Void) async throws {
        let setup = try await Setup()
        do {
            try await body(setup)
        } catch {
            Issue.record("logs:\n\(setup.logs())")
            await setup.stop()
            throw error
        }
        await setup.stop()
    }

    @Test func followerProxiesAndKilledLeaderIsReplacedWithTasksKept() async throws {
        try await Self.run { setup in
            try await setup.startBoth()

            // The follower proxies /v2/info: the leader reports the election.
            let info = try await HTTP.get("\(setup.url(1))/v2/info")
            let root = info.json as? [String: Any] ?? [:]
            #expect(info.headers.first(name: "X-Marathon-Leader") == setup.url(0))
            #expect((root["marathon_config"] as? [String: Any])?["ha"] as? Bool == true)
            #expect((root["zookeeper_config"] as? [String: Any])?["zk"] as? String == setup.zooKeeperURL)

            // When: an app is posted to the follower
            let created = try await HTTP.request(
                .POST,
                "\(setup.url(1))/v2/apps",
                json: ["id": "/ha", "cmd": "sleep 600", "cpus": 0.05, "mem": 16, "instances": 2]
            )

            // Then: the leader created it, and said so in its header
            #expect(created.status == 201, "\(created.text)")
            #expect(created.headers.first(name: "X-Marathon-Leader") == setup.url(0))
            try await eventually(timeout: .seconds(60), "2 running tasks") {
                try await setup.runningTaskIDs("/ha", via: 1).count == 2
            }
            let before = try await setup.runningTaskIDs("/ha", via: 0)
            #expect(try await setup.runningTaskIDsAtMaster() == before)

            // When: the leader is SIGKILLed
            await setup.sigkill(0)

            // Then: the follower takes over (after the session timeout) and the tasks keep their ids
            try await eventually(timeout: .seconds(60), "scheduler 1 leads") { await setup.leaderIndex() == 1 }
            try await eventually(timeout: .seconds(30), "scheduler 1 reports the tasks") {
                try await setup.runningTaskIDs("/ha", via: 1) == before
            }
            let deployments = try await HTTP.get("\(setup.url(1))/v2/deployments")
            #expect(deployments.status == 200)
            // Reconciliation settles; nothing is launched again or killed.
            try await Task.sleep(for: .seconds(3))
            #expect(try await setup.runningTaskIDs("/ha", via: 1) == before)
            #expect(try await setup.runningTaskIDsAtMaster() == before)

            // When: the old leader comes back, it follows
            try setup.start(0)
            try await eventually(timeout: .seconds(60), "both name scheduler 1") { await setup.leaderIndex() == 1 }
            #expect(try await setup.runningTaskIDs("/ha", via: 0) == before)
        }
    }

    @Test func abdicatingThreeTimesLeavesOneAgreedLeaderAndTheSameTasks() async throws {
        try await Self.run { setup in
            try await setup.startBoth()
            let created = try await HTTP.request(
                .POST,
                "\(setup.url(0))/v2/apps",
                json: ["id": "/abdicate", "cmd": "sleep 600", "cpus": 0.05, "mem": 16, "instances": 2]
            )
            #expect(created.status == 201, "\(created.text)")
            try await eventually(timeout: .seconds(60), "2 running tasks") {
                try await setup.runningTaskIDs("/abdicate", via: 0).count == 2
            }
            let before = try await setup.runningTaskIDs("/abdicate", via: 0)

            var leader = 0
            for round in 1...3 {
                // The first abdication goes through the follower, which proxies it.
                let target = round == 1 ? 1 - leader : leader
                let answer = try await HTTP.request(.DELETE, "\(setup.url(target))/v2/leader")
                #expect(answer.status == 200, "round \(round): \(answer.text)")
                #expect((answer.json as? [String: Any])?["message"] as? String == "Leadership abdicated")
                let previous = leader
                try await eventually(timeout: .seconds(60), "round \(round): the other scheduler leads") {
                    await setup.leaderIndex() == 1 - previous
                }
                leader = 1 - previous
                try await eventually(timeout: .seconds(30), "round \(round): the new leader reports the tasks") {
                    try await setup.runningTaskIDs("/abdicate", via: leader) == before
                }
            }

            // Then: both processes still run, agree on one leader, and the tasks are the same
            #expect(setup.schedulers.allSatisfy { $0?.process.isRunning == true })
            #expect(await setup.leaderIndex() == leader)
            try await Task.sleep(for: .seconds(3))
            #expect(try await setup.runningTaskIDs("/abdicate", via: 1 - leader) == before)
            #expect(try await setup.runningTaskIDsAtMaster() == before)
        }
    }
}
