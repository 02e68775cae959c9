// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RegattaZooKeeper
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Masters with `--zk` against the test script's standalone ZooKeeper: one leads, the others redirect (307) or
/// answer 503, a SIGKILLed leader is replaced within the session timeout, and a master that loses its election node
/// or its session exits with the documented code.
@Suite(.serialized) struct MasterElectionTests {
    static let sessionTimeout = 4

    /// One `regatta master --zk` process.
    final class ElectedMaster: @unchecked Sendable {
        let port = freePort()
        let process: RegattaProcess
        var url: String { "http://127.0.0.1:\(self.port)" }

        init(zk: String, workDir: URL, name: String, extraFlags: [String] = []) throws {
            self.process = try RegattaProcess(
                [
                    "master", "--port", "\(self.port)", "--zk", zk, "--zk_session_timeout",
                    "\(MasterElectionTests.sessionTimeout)secs",
                    "--work_dir", workDir.appendingPathComponent(name).path,
                ] + extraFlags,
                log: workDir.appendingPathComponent("\(name).log")
            )
        }

        func elected() async throws -> Double? {
            let metrics = try await HTTP.get("\(self.url)/metrics/snapshot")
            return (metrics.json as? [String: Any])?["master/elected"] as? Double
        }

        /// Waits for the process to exit and returns its exit code (`nil` if it did not exit within `timeout`).
        func exitCode(within timeout: Duration) async -> Int32? {
            let deadline = ContinuousClock.now + timeout
            while self.process.process.isRunning && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(100))
            }
            guard !self.process.process.isRunning, self.process.process.terminationReason == .exit else {
                return nil
            }
            return self.process.process.terminationStatus
        }
    }

    /// An HTTP client that does not follow redirects, to see the 307s themselves.
    final class RawHTTP: Sendable {
        let client: HTTPClient = {
            var configuration = HTTPClient.Configuration()
            configuration.redirectConfiguration = .disallow
            return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        }()

        func request(
            _ method: HTTPMethod,
            _ url: String,
            json: String? = nil
        ) async throws
            -> (status: Int, location: String?, text: String)
        {
            var request = HTTPClientRequest(url: url)
            request.method = method
            if let json {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: json))
            }
            let response = try await self.client.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 8 << 20)
            return (
                Int(response.status.code), response.headers.first(name: "Location"), String(buffer: body)
            )
        }

        func shutdown() async { try? await self.client.shutdown() }
    }

    static let subscribe = """
        {"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"election-test"}}}
        """

    private func workDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "regatta-election-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test(.enabled(if: ServiceEnvironment.zooKeeper != nil, ServiceEnvironment.zooKeeperSkipReason))
    func oneLeadsTheOtherRedirectsAndTakesOverWhenTheLeaderIsKilled() async throws {
        let zk = try #require(ServiceEnvironment.zooKeeperURL(path: "/test-\(UUID().uuidString)/mesos"))
        let dir = try self.workDir()
        let http = RawHTTP()
        let first = try ElectedMaster(zk: zk, workDir: dir, name: "master-1")
        var second: ElectedMaster?
        var agent: RegattaProcess?
        defer {
            kill(first.process.pid, SIGKILL)
            if let second { kill(second.process.pid, SIGKILL) }
            if let agent { kill(agent.pid, SIGKILL) }
        }
        try await eventually("master-1 elected") { try await first.elected() == 1 }
        let standby = try ElectedMaster(zk: zk, workDir: dir, name: "master-2")
        second = standby
        try await eventually("master-2 follows master-1") {
            try await http.request(.GET, "\(standby.url)/master/redirect").location
                == "//127.0.0.1:\(first.port)"
        }
        #expect(try await standby.elected() == 0)

        // The leader serves and names itself; the standby redirects every leader-only endpoint to the same path.
        let state = try await HTTP.get("\(first.url)/master/state")
        let stateJSON = try #require(state.json as? [String: Any])
        #expect(stateJSON["leader"] as? String == "master@127.0.0.1:\(first.port)")
        #expect((stateJSON["leader_info"] as? [String: Any])?["port"] as? Int == first.port)
        #expect(
            try await http.request(.GET, "\(first.url)/master/redirect").location
                == "//127.0.0.1:\(first.port)"
        )
        let scheduler = try await http.request(
            .POST,
            "\(standby.url)/api/v1/scheduler",
            json: Self.subscribe
        )
        #expect(scheduler.status == 307)
        #expect(scheduler.location == "//127.0.0.1:\(first.port)/api/v1/scheduler")
        let operatorCall = try await http.request(
            .POST,
            "\(standby.url)/api/v1",
            json: #"{"type":"GET_STATE"}"#
        )
        #expect(operatorCall.status == 307)
        #expect(operatorCall.location == "//127.0.0.1:\(first.port)/api/v1")
        let agentCall = try await http.request(
            .POST,
            "\(standby.url)/api/v1/agent",
            json: #"{"type":"PONG","agent_id":{"value":"x"}}"#
        )
        #expect(agentCall.status == 307)
        let standbyState = try await http.request(.GET, "\(standby.url)/master/state?jsonp=x")
        #expect(standbyState.status == 307)
        #expect(standbyState.location == "//127.0.0.1:\(first.port)/master/state?jsonp=x")
        #expect(try await http.request(.GET, "\(standby.url)/master/flags").status == 200)

        // An agent following zk:// registers with the leader, which records it in the registry.
        let agentProcess = try RegattaProcess(
            [
                "agent", "--master", zk, "--zk_session_timeout", "\(Self.sessionTimeout)secs", "--port",
                "\(freePort())",
                "--work_dir", dir.appendingPathComponent("agent").path, "--resources",
                "cpus:1;mem:256;disk:256",
            ],
            log: dir.appendingPathComponent("agent.log")
        )
        agent = agentProcess
        var agentID = ""
        try await eventually("agent registered with master-1") {
            let slaves =
                (try await HTTP.get("\(first.url)/master/state").json as? [String: Any])?["slaves"]
                as? [[String: Any]]
            agentID = slaves?.first?["id"] as? String ?? ""
            return !agentID.isEmpty
        }

        // SIGKILL the leader: the standby leads within the session timeout plus a few seconds, and the agent
        // re-registers with it under the same id.
        let killedAt = ContinuousClock.now
        kill(first.process.pid, SIGKILL)
        try await eventually(
            timeout: .seconds(Self.sessionTimeout + 8),
            "master-2 elected after the leader died"
        ) {
            guard try await standby.elected() == 1 else { return false }
            return try await http.request(.POST, "\(standby.url)/api/v1", json: #"{"type":"GET_HEALTH"}"#)
                .status == 200
        }
        let failover = ContinuousClock.now - killedAt
        #expect(failover < .seconds(Self.sessionTimeout + 5), "failover took \(failover)")
        #expect(
            try await http.request(.GET, "\(standby.url)/master/redirect").location
                == "//127.0.0.1:\(standby.port)"
        )
        try await eventually(timeout: .seconds(20), "the agent re-registered with master-2") {
            let slaves =
                (try await HTTP.get("\(standby.url)/master/state").json as? [String: Any])?["slaves"]
                as? [[String: Any]]
            return slaves?.contains { $0["id"] as? String == agentID && $0["active"] as? Bool == true }
                == true
        }
        await http.shutdown()
    }

    @Test(.enabled(if: ServiceEnvironment.zooKeeper != nil, ServiceEnvironment.zooKeeperSkipReason))
    func withoutAKnownLeaderANonLeaderAnswers503AndExitsWhenItsNodeIsDeleted() async throws {
        let path = "/test-\(UUID().uuidString)/mesos"
        let zk = try #require(ServiceEnvironment.zooKeeperURL(path: path))
        let logger = Logger(label: "test.zk")
        let client = try await ZooKeeperClient.connect(
            url: try ZooKeeperURL(parsing: zk),
            logger: logger
        )
        // A contender whose node names no usable master holds the lowest sequence: nobody known leads.
        let blocker = try await LeaderContender.contend(
            client: client,
            path: path,
            data: Array("{}".utf8),
            logger: logger
        )
        let dir = try self.workDir()
        let http = RawHTTP()
        let master = try ElectedMaster(zk: zk, workDir: dir, name: "master")
        defer { kill(master.process.pid, SIGKILL) }
        try await eventually("master up") { try await master.elected() == 0 }
        let redirect = try await http.request(.GET, "\(master.url)/master/redirect")
        #expect(redirect.status == 503)
        let scheduler = try await http.request(
            .POST,
            "\(master.url)/api/v1/scheduler",
            json: Self.subscribe
        )
        #expect(scheduler.status == 503)
        #expect(scheduler.text.contains("No leader"))

        // The blocker withdraws: the master is elected and serves.
        try await blocker.withdraw()
        try await eventually(timeout: .seconds(10), "master elected") {
            try await http.request(.POST, "\(master.url)/api/v1", json: #"{"type":"GET_HEALTH"}"#).status
                == 200
        }
        // Deleting its election node ends its leadership: it exits with 103.
        let children = try await client.getChildren(path)
        for child in children where child.hasPrefix("json.info_") {
            try await client.delete(path + "/" + child)
        }
        #expect(await master.exitCode(within: .seconds(10)) == 103, "\(master.process.logTail())")
        await client.close()
        await http.shutdown()
    }

    @Test(.enabled(if: ServiceEnvironment.zooKeeper != nil, ServiceEnvironment.zooKeeperSkipReason))
    func aLeaderCutOffFromZooKeeperStopsServingAndExitsWith101() async throws {
        let zooKeeper = try #require(ServiceEnvironment.zooKeeper)
        let zkPort = try #require(Int(zooKeeper.split(separator: ":").last ?? ""))
        let proxy = try TCPProxy(upstreamPort: zkPort)
        defer { proxy.close() }
        let path = "/test-\(UUID().uuidString)/mesos"
        let dir = try self.workDir()
        let http = RawHTTP()
        let leader = try ElectedMaster(
            zk: "zk://127.0.0.1:\(proxy.port)\(path)",
            workDir: dir,
            name: "leader"
        )
        defer { kill(leader.process.pid, SIGKILL) }
        try await eventually("leader elected") { try await leader.elected() == 1 }
        let standby = try ElectedMaster(zk: "zk://\(zooKeeper)\(path)", workDir: dir, name: "standby")
        defer { kill(standby.process.pid, SIGKILL) }
        try await eventually("standby follows") {
            try await http.request(.GET, "\(standby.url)/master/redirect").location
                == "//127.0.0.1:\(leader.port)"
        }
        proxy.cut(.blackhole)
        // Within the session timeout the cut-off leader stops acting (503) …
        try await eventually(
            timeout: .seconds(Self.sessionTimeout + 2),
            "the cut-off leader stops serving"
        ) {
            try await http.request(.POST, "\(leader.url)/api/v1", json: #"{"type":"GET_HEALTH"}"#).status
                == 503
        }
        // … the standby takes over, and the old leader exits with 101.
        try await eventually(timeout: .seconds(Self.sessionTimeout + 8), "standby elected") {
            try await standby.elected() == 1
        }
        #expect(
            await leader.exitCode(within: .seconds(Self.sessionTimeout + 5)) == 101,
            "\(leader.process.logTail())"
        )
        await http.shutdown()
    }

    @Test(.enabled(if: ServiceEnvironment.zooKeeper != nil, ServiceEnvironment.zooKeeperSkipReason))
    func aNewLeaderWaitsForRegistryAgentsThenMarksThemUnreachableOrExitsAboveTheRemovalLimit()
        async throws
    {
        let zk = try #require(ServiceEnvironment.zooKeeperURL(path: "/test-\(UUID().uuidString)/mesos"))
        let dir = try self.workDir()
        let http = RawHTTP()
        let first = try ElectedMaster(zk: zk, workDir: dir, name: "master-1")
        var others: [ElectedMaster] = []
        defer {
            kill(first.process.pid, SIGKILL)
            for other in others { kill(other.process.pid, SIGKILL) }
        }
        try await eventually("master-1 elected") { try await first.elected() == 1 }
        let agent = try RegattaProcess(
            [
                "agent", "--master", "127.0.0.1:\(first.port)", "--port", "\(freePort())",
                "--work_dir", dir.appendingPathComponent("agent").path, "--resources",
                "cpus:1;mem:256;disk:256",
            ],
            log: dir.appendingPathComponent("agent.log")
        )
        defer { kill(agent.pid, SIGKILL) }
        try await eventually("agent registered") {
            (try await HTTP.get("\(first.url)/metrics/snapshot").json as? [String: Any])?[
                "master/slaves_active"
            ] as? Double == 1
        }
        // The agent and the leader die; the agent never comes back.
        kill(agent.pid, SIGKILL)
        kill(first.process.pid, SIGKILL)

        // The next leader allows no removal at all: it exits with 104 once the re-registration timeout passes.
        let strict = try ElectedMaster(
            zk: zk,
            workDir: dir,
            name: "master-2",
            extraFlags: ["--agent_reregister_timeout", "1secs", "--recovery_agent_removal_limit", "0%"]
        )
        others.append(strict)
        // Once it follows the dead leader's (unexpired) node, its own node exists: the next master queues after it.
        try await eventually("master-2 contends") {
            let location = try await http.request(.GET, "\(strict.url)/master/redirect").location
            return location == "//127.0.0.1:\(first.port)" || location == "//127.0.0.1:\(strict.port)"
        }
        let lenient = try ElectedMaster(
            zk: zk,
            workDir: dir,
            name: "master-3",
            extraFlags: ["--agent_reregister_timeout", "3secs"]
        )
        others.append(lenient)
        #expect(
            await strict.exitCode(within: .seconds(Self.sessionTimeout + 10)) == 104,
            "\(strict.process.logTail())"
        )

        // The one after it lists the agent as recovered, then marks it unreachable.
        try await eventually(timeout: .seconds(Self.sessionTimeout + 8), "master-3 elected") {
            try await http.request(.POST, "\(lenient.url)/api/v1", json: #"{"type":"GET_HEALTH"}"#).status
                == 200
        }
        let agents = try await HTTP.request(
            .POST,
            "\(lenient.url)/api/v1",
            json: ["type": "GET_AGENTS"]
        )
        let recovered =
            ((agents.json as? [String: Any])?["get_agents"] as? [String: Any])?["recovered_agents"]
            as? [[String: Any]]
        let unreachable =
            (try await HTTP.get("\(lenient.url)/metrics/snapshot").json as? [String: Any])?[
                "master/slaves_unreachable"
            ] as? Double
        #expect(recovered?.count == 1 || unreachable == 1, "\(agents.text)")
        try await eventually(timeout: .seconds(10), "the agent that never returned is unreachable") {
            (try await HTTP.get("\(lenient.url)/metrics/snapshot").json as? [String: Any])?[
                "master/slaves_unreachable"
            ] as? Double == 1
        }
        await http.shutdown()
    }

    @Test func unreachableZooKeeperAtStartExitsWith100() async throws {
        let dir = try self.workDir()
        let master = try ElectedMaster(
            zk: "zk://127.0.0.1:\(freePort())/mesos",
            workDir: dir,
            name: "master"
        )
        defer { kill(master.process.pid, SIGKILL) }
        #expect(
            await master.exitCode(within: .seconds(Self.sessionTimeout + 10)) == 100,
            "\(master.process.logTail())"
        )
    }
}
