// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

/// The master's failure behaviour with real master and agent processes and a v1 HTTP framework.
@Suite(.serialized) struct MasterIntegrationTests {
    @Test func resubscribingInsideTheFailoverTimeoutKeepsTasks() async throws {
        let cluster = try await MasterCluster(agents: 1)
        let first = V1Framework(master: cluster.masterURL, failoverTimeout: 60)
        first.start()
        let offer = try await first.nextOffer()
        try await first.launch("keep-1", on: offer, command: "sleep 60")
        try await first.waitForState("keep-1", .running)
        let id = try #require(first.frameworkID.value)
        await first.stop()
        try await eventually("the master sees the framework disconnected") {
            try await cluster.metric("master/frameworks_disconnected") == 1
        }
        // A new scheduler instance re-subscribes with the same id and reconciles.
        let second = V1Framework(master: cluster.masterURL, failoverTimeout: 60, id: id)
        second.start()
        try await eventually("re-subscribed") { second.frameworkID.value == id }
        var reconcile = SchedulerCall(frameworkId: id, type: .reconcile)
        reconcile.reconcile = .init(tasks: [])
        try await second.send(reconcile)
        try await second.waitForState("keep-1", .running)
        #expect(try await cluster.metric("master/tasks_running") == 1)
        #expect(!second.updates.contains { $0.state.isTerminal }, "nothing was killed")
        try await second.send(SchedulerCall(frameworkId: id, type: .teardown))
        await second.stop()
        await cluster.stop()
    }

    @Test func failoverTimeoutExpiryKillsTheTasks() async throws {
        let cluster = try await MasterCluster(agents: 1)
        let framework = V1Framework(master: cluster.masterURL, failoverTimeout: 2)
        framework.start()
        let offer = try await framework.nextOffer()
        try await framework.launch("doomed-1", on: offer, command: "sleep 60")
        try await framework.waitForState("doomed-1", .running)
        await framework.stop()
        try await eventually(timeout: .seconds(20), "the task is killed after the failover timeout") {
            try await cluster.metric("master/tasks_killed") == 1
        }
        let state = try await HTTP.get("\(cluster.masterURL)/master/frameworks")
        let completed = (state.json as? [String: Any])?["completed_frameworks"] as? [[String: Any]] ?? []
        #expect(completed.count == 1)
        await cluster.stop()
    }

    @Test func agentKilledWithSIGKILLBecomesUnreachableAndItsTasksAreReported() async throws {
        let cluster = try await MasterCluster(
            agents: 1,
            masterFlags: ["--agent_ping_timeout", "500ms", "--max_agent_ping_timeouts", "3"]
        )
        let framework = V1Framework(master: cluster.masterURL, partitionAware: true)
        framework.start()
        let offer = try await framework.nextOffer()
        try await framework.launch("orphan-1", on: offer, command: "sleep 30")
        try await framework.waitForState("orphan-1", .running)
        kill(cluster.agents[0].pid, SIGKILL)
        let killedAt = ContinuousClock.now
        try await framework.waitForState("orphan-1", .unreachable, timeout: .seconds(15))
        let elapsed = ContinuousClock.now - killedAt
        #expect(elapsed < .seconds(10), "unreachable after \(elapsed), ping timeout is 0.5 s × 3")
        #expect(try await cluster.metric("master/slaves_unreachable") == 1)
        #expect(try await cluster.metric("master/slaves_active") == 0)
        // The task's process group outlives the agent (it is not a child the agent waits for any more); clean up.
        _ = try? run("/usr/bin/pkill", ["-f", "^sleep 30$"])
        await framework.stop()
        await cluster.stop()
    }

    @Test func offerTimeoutRescindsOffers() async throws {
        let cluster = try await MasterCluster(agents: 1, masterFlags: ["--offer_timeout", "1secs"])
        let framework = V1Framework(master: cluster.masterURL)
        framework.start()
        let offer = try await framework.nextOffer()
        try await eventually(timeout: .seconds(10), "the held offer is rescinded") {
            framework.rescinded.contains(offer.id)
        }
        await framework.stop()
        await cluster.stop()
    }

    @Test func declinedOfferIsNotReofferedWithinRefuseSeconds() async throws {
        let cluster = try await MasterCluster(agents: 1)
        let framework = V1Framework(master: cluster.masterURL)
        framework.start()
        let offer = try await framework.nextOffer()
        try await framework.decline(offer, refuseSeconds: 3)
        let declinedAt = ContinuousClock.now
        let next = try await framework.nextOffer(excluding: [offer.id], timeout: .seconds(15))
        let gap = ContinuousClock.now - declinedAt
        #expect(next.agentId == offer.agentId)
        #expect(gap >= .seconds(3), "re-offered after \(gap)")
        #expect(gap < .seconds(6), "the filter expired but the offer took \(gap)")
        await framework.stop()
        await cluster.stop()
    }

    @Test func operatorAPIAndEndpointsAnswerInMesosShapes() async throws {
        let cluster = try await MasterCluster(agents: 2)
        let state = try await HTTP.request(.POST, "\(cluster.masterURL)/api/v1", json: ["type": "GET_STATE"])
        #expect(state.status == 200)
        let getState = (state.json as? [String: Any])?["get_state"] as? [String: Any]
        let agents = (getState?["get_agents"] as? [String: Any])?["agents"] as? [Any]
        #expect(agents?.count == 2)
        let health = try await HTTP.request(.POST, "\(cluster.masterURL)/api/v1", json: ["type": "GET_HEALTH"])
        #expect(((health.json as? [String: Any])?["get_health"] as? [String: Any])?["healthy"] as? Bool == true)
        let bogus = try await HTTP.request(.POST, "\(cluster.masterURL)/api/v1", json: ["type": "NOPE"])
        #expect(bogus.status == 400)
        let v0 = try await HTTP.get("\(cluster.masterURL)/master/state")
        let root = v0.json as? [String: Any]
        #expect((root?["slaves"] as? [Any])?.count == 2)
        #expect(root?["activated_slaves"] as? Int == 2)
        let prometheus = try await HTTP.get("\(cluster.masterURL)/metrics")
        #expect(prometheus.text.contains("mesos_master_slaves_active 2"))
        let redirect = try run(
            "/usr/bin/curl",
            ["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "\(cluster.masterURL)/master/redirect"]
        )
        #expect(redirect.output.hasPrefix("307 "), "\(redirect.output)")
        // Calls without a subscription or with garbage are refused with a message.
        let unsubscribed = try await HTTP.request(
            .POST,
            "\(cluster.masterURL)/api/v1/scheduler",
            json: ["type": "REVIVE", "framework_id": ["value": "x"]]
        )
        #expect(unsubscribed.status == 403)
        let garbage = try await HTTP.request(.POST, "\(cluster.masterURL)/api/v1/scheduler", body: "{")
        #expect(garbage.status == 400)
        await cluster.stop()
    }

    @Test func exampleFrameworkRunsItsTasksToCompletion() async throws {
        let cluster = try await MasterCluster(agents: 2)
        let binary = Package.root.appendingPathComponent(".build/debug/hello-framework").path
        let result = try run(
            binary,
            ["--master", "127.0.0.1:\(cluster.masterPort)", "--tasks", "3", "--command", "echo hi"]
        )
        #expect(result.status == 0, "\(result.output)\n\(cluster.logs())")
        #expect(result.output.components(separatedBy: "is TASK_FINISHED").count - 1 == 3)
        try await eventually("the framework is torn down") {
            try await cluster.metric("master/frameworks_active") == 0
        }
        await cluster.stop()
    }

    @Test func badFlagValuesExitWithOneLineNamingTheFlag() throws {
        let result = try run(Package.regatta, ["master", "--agent_ping_timeout", "soon"])
        #expect(result.status != 0)
        #expect(result.output.contains("--agent_ping_timeout"))
        let env = try run("/usr/bin/env", ["MESOS_PORT=notaport", Package.regatta, "master"])
        #expect(env.status != 0)
        #expect(env.output.contains("--port"))
        let agent = try run(Package.regatta, ["agent", "--master", "127.0.0.1:1", "--resources", "cpus:-1"])
        #expect(agent.status != 0)
        #expect(agent.output.contains("--resources"))
    }
}
