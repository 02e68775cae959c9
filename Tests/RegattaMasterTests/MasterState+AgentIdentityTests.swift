// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

/// An agent speaks only for itself: forged SUBSCRIBE, UPDATE and PONG calls are refused and change nothing.
@Suite struct MasterStateAgentIdentityTests {
    /// Registers an agent with a token, as the master's shell does.
    private func register(
        _ h: inout MasterHarness,
        hostname: String,
        id: AgentID? = nil,
        token: String,
        connection: Int,
        presented: String? = nil,
        tasks: [AgentTask] = []
    ) throws -> AgentID {
        let (agentID, actions) = try h.state.subscribeAgent(
            Fixture.agentSubscribe(hostname: hostname, id: id, tasks: tasks),
            connection: connection,
            pingInterval: .seconds(15),
            masterInfo: nil,
            presentedToken: presented,
            newToken: token,
            now: h.now
        )
        guard case .agentMessage(_, let message) = actions.first else {
            Issue.record("REGISTERED must come first")
            return agentID
        }
        #expect(message.registered?.registrationToken == token)
        return agentID
    }

    /// Two agents, a framework and task `t1` running on agent A.
    private func cluster() throws -> (MasterHarness, a: AgentID, b: AgentID, FrameworkID) {
        var h = MasterHarness()
        let a = try self.register(&h, hostname: "a", token: "token-a", connection: 1)
        let b = try self.register(&h, hostname: "b", token: "token-b", connection: 2)
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first { $0.agentId == a })
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: a, cpus: 1)], from: framework)
        return (h, a, b, framework)
    }

    @Test func updateForATaskOnAnotherAgentIsForbiddenAndChangesNothing() throws {
        // Given task t1 running on agent A
        var (h, a, b, framework) = try self.cluster()
        let before = h.state.tasks[TaskKey(framework, "t1")]?.state
        // When agent B (with its own valid token) reports t1 as failed
        let forged = AgentCall.Update(frameworkId: framework, status: TaskStatus(taskId: "t1", state: .failed))
        // Then it is refused with 403 and the task is untouched
        #expect {
            try h.state.agentUpdate(forged, from: b, token: "token-b", now: h.now)
        } throws: { error in
            (error as? MasterError)?.status == 403 && "\(error)".contains("runs on agent")
        }
        #expect(h.state.tasks[TaskKey(framework, "t1")]?.state == before)
        #expect(h.state.agents[a]?.used.isEmpty == false)
    }

    @Test func updateWithoutTheAgentsTokenIsForbidden() throws {
        var (h, a, _, framework) = try self.cluster()
        let update = AgentCall.Update(frameworkId: framework, status: TaskStatus(taskId: "t1", state: .failed))
        #expect(throws: MasterError.self) { try h.state.agentUpdate(update, from: a, token: nil, now: h.now) }
        #expect(throws: MasterError.self) { try h.state.agentUpdate(update, from: a, token: "token-b", now: h.now) }
        #expect(h.state.tasks[TaskKey(framework, "t1")]?.state != .failed)
        // The agent itself may.
        let result = try h.state.agentUpdate(update, from: a, token: "token-a", now: h.now)
        #expect(result.actions.isEmpty == false)
        #expect(h.state.tasks[TaskKey(framework, "t1")] == nil)
    }

    @Test func updateForAnUnknownTaskIsForbidden() throws {
        var (h, a, _, framework) = try self.cluster()
        let update = AgentCall.Update(frameworkId: framework, status: TaskStatus(taskId: "nope", state: .running))
        #expect(throws: MasterError.self) { try h.state.agentUpdate(update, from: a, token: "token-a", now: h.now) }
        #expect(h.state.tasks[TaskKey(framework, "nope")] == nil)
    }

    @Test func aResentTerminalUpdateIsAcceptedUntilAcknowledged() throws {
        // Given t1 finished on A (its update carried uuid "u1") and left the master's live tasks
        var (h, a, _, framework) = try self.cluster()
        let finished = AgentCall.Update(
            frameworkId: framework,
            status: TaskStatus(taskId: "t1", state: .finished, uuid: "u1")
        )
        _ = try h.state.agentUpdate(finished, from: a, token: "token-a", now: h.now)
        #expect(h.state.tasks[TaskKey(framework, "t1")] == nil)
        // When A resends it (no acknowledgement yet), it is taken again
        _ = try h.state.agentUpdate(finished, from: a, token: "token-a", now: h.now)
        // Then once the framework acknowledges it, a further resend is refused
        var ack = SchedulerCall(frameworkId: framework, type: .acknowledge)
        ack.acknowledge = .init(agentId: a, taskId: "t1", uuid: "u1")
        _ = try h.call(ack, from: framework)
        #expect(h.state.agents[a]?.terminalAwaitingAck.isEmpty == true)
        #expect(throws: MasterError.self) { try h.state.agentUpdate(finished, from: a, token: "token-a", now: h.now) }
    }

    @Test func afterFailoverReportedTerminalTasksMayBeUpdated() throws {
        // Given a new master to which the agent reports a finished, unacknowledged task
        var h = MasterHarness()
        let info = Fixture.task("t9", agent: "s1", cpus: 1)
        let a = try self.register(
            &h,
            hostname: "a",
            id: "s1",
            token: "t",
            connection: 1,
            tasks: [AgentTask(frameworkId: "f1", task: info, state: .finished)]
        )
        // When it sends that task's terminal update
        let update = AgentCall.Update(frameworkId: "f1", status: TaskStatus(taskId: "t9", state: .finished, uuid: "u"))
        // Then it is taken
        #expect(throws: Never.self) { try h.state.agentUpdate(update, from: a, token: "t", now: h.now) }
    }

    @Test func pongWithoutTheCurrentTokenIsForbidden() throws {
        var (h, a, _, _) = try self.cluster()
        _ = h.state.pingAgents(now: h.now)
        #expect(h.state.agents[a]?.pingOutstanding == true)
        #expect(throws: MasterError.self) { try h.state.agentPong(a, token: "token-b") }
        #expect(throws: MasterError.self) { try h.state.agentPong(a, token: nil) }
        #expect(h.state.agents[a]?.pingOutstanding == true)
        try h.state.agentPong(a, token: "token-a")
        #expect(h.state.agents[a]?.pingOutstanding == false)
    }

    @Test func subscribeClaimingAConnectedAgentNeedsItsToken() throws {
        // Given agent A connected on connection 1 with token-a
        var (h, a, _, framework) = try self.cluster()
        // When someone subscribes with A's id and no (or a wrong) token
        for token in [nil, "guess"] {
            #expect(throws: MasterError.self) {
                _ = try h.state.subscribeAgent(
                    Fixture.agentSubscribe(hostname: "evil", id: a),
                    connection: 9,
                    pingInterval: .seconds(15),
                    masterInfo: nil,
                    presentedToken: token,
                    newToken: "token-evil",
                    now: h.now
                )
            }
        }
        // Then A keeps its stream, address and task
        #expect(h.state.agents[a]?.connection == 1)
        #expect(h.state.agents[a]?.info.hostname == "a")
        #expect(h.state.tasks[TaskKey(framework, "t1")]?.state.isTerminal == false)
        // and without an id from A's address it is refused too (it would get A's id back)
        #expect(throws: MasterError.self) {
            _ = try h.state.subscribeAgent(
                Fixture.agentSubscribe(hostname: "a"),
                connection: 9,
                pingInterval: .seconds(15),
                masterInfo: nil,
                presentedToken: nil,
                newToken: "token-evil",
                now: h.now
            )
        }
        // The agent itself re-subscribes with its token and gets a new one
        let again = try self.register(&h, hostname: "a", id: a, token: "token-a2", connection: 3, presented: "token-a")
        #expect(again == a)
        #expect(h.state.agents[a]?.connection == 3)
        #expect(throws: MasterError.self) { try h.state.agentPong(a, token: "token-a") }
    }

    @Test func aDisconnectedAgentMayRegisterAgainWithoutItsToken() throws {
        // Given agent A whose stream ended (it restarted and lost nothing but its token)
        var (h, a, _, _) = try self.cluster()
        _ = h.state.agentDisconnected(a, connection: 1, now: h.now)
        // When it subscribes with its id and no token, it is accepted
        let again = try self.register(&h, hostname: "a", id: a, token: "token-a2", connection: 5)
        #expect(again == a)
    }
}

extension MasterStateAgentIdentityTests {
    @Test func aSubscribeReportingAnotherAgentsTaskChangesNothingOfIt() throws {
        // Given task t1 running on agent A
        var (h, a, _, framework) = try self.cluster()
        let info = try #require(h.state.tasks[TaskKey(framework, "t1")]?.info)
        // When a new agent subscribes reporting t1 as finished (Fuzz/Crashes/master/foreign-task-report.bin)
        _ = try self.register(
            &h,
            hostname: "c",
            token: "token-c",
            connection: 7,
            tasks: [AgentTask(frameworkId: framework, task: info, state: .finished)]
        )
        // Then t1 still runs on A, which still accounts for it
        #expect(h.state.tasks[TaskKey(framework, "t1")]?.agentID == a)
        #expect(h.state.tasks[TaskKey(framework, "t1")]?.state.isTerminal == false)
        #expect(h.state.agents[a]?.tasks.contains(TaskKey(framework, "t1")) == true)
        #expect(h.invariantsHold())
    }
}
