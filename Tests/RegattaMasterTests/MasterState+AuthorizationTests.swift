// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

/// Identities bound to principals and the ACLs the master enforces (`MasterState+Authorization`).
@Suite struct MasterStateAuthorizationTests {
    /// A master with credentials for `marathon`, `other`, `agent-a`, `agent-b` and `ops`, and optionally ACLs.
    static func harness(acls: String? = nil) throws -> MasterHarness {
        var configuration = MasterConfiguration()
        configuration.authentication = MasterAuthentication(
            credentials: try CredentialStore(
                ["marathon", "other", "agent-a", "agent-b", "ops"].map {
                    try Credential(principal: $0, secret: "s-\($0)")
                }
            )
        )
        if let acls {
            configuration.acls = try ACLs.parse(acls, enforced: MasterConfiguration.enforcedACLs)
        }
        return MasterHarness(configuration: configuration)
    }

    static func forbidden(_ error: any Error, _ text: String) -> Bool {
        (error as? MasterError)?.status == 403 && "\(error)".contains(text)
    }

    private func subscribe(
        _ h: inout MasterHarness,
        _ info: FrameworkInfo = Fixture.framework(),
        principal: String?,
        stream: String = "s1"
    ) throws -> FrameworkID {
        try h.state.subscribe(
            framework: info,
            streamID: stream,
            heartbeat: .seconds(15),
            masterInfo: nil,
            principal: principal,
            now: h.now
        ).0
    }

    private func registerAgent(
        _ h: inout MasterHarness,
        hostname: String = "a",
        id: AgentID? = nil,
        principal: String?,
        connection: Int = 1,
        token: String? = nil
    ) throws -> AgentID {
        try h.state.subscribeAgent(
            Fixture.agentSubscribe(hostname: hostname, id: id),
            connection: connection,
            pingInterval: .seconds(15),
            masterInfo: nil,
            presentedToken: token,
            newToken: "token-\(connection)",
            principal: principal,
            now: h.now
        ).0
    }

    // MARK: - Frameworks

    @Test func aFrameworkWithoutAPrincipalGetsTheAuthenticatedOne() throws {
        // Given a master with credentials
        var h = try Self.harness()
        // When marathon subscribes without naming a principal
        let id = try self.subscribe(&h, principal: "marathon")
        // Then the framework is registered as marathon's
        #expect(h.state.frameworks[id]?.info.principal == "marathon")
        #expect(h.state.frameworks[id]?.principal == "marathon")
    }

    @Test func aFrameworkPrincipalOtherThanTheAuthenticatedOneIsForbidden() throws {
        var h = try Self.harness()
        var info = Fixture.framework()
        info.principal = "marathon"
        #expect { try self.subscribe(&h, info, principal: "other") } throws: {
            Self.forbidden($0, "does not match the authenticated principal 'other'")
        }
        #expect { try self.subscribe(&h, info, principal: nil) } throws: { Self.forbidden($0, "is not authenticated") }
        #expect(h.state.frameworks.isEmpty)
        // The matching principal may.
        #expect(try self.subscribe(&h, info, principal: "marathon").value.isEmpty == false)
    }

    @Test func resubscribingAnotherPrincipalsFrameworkIdIsForbiddenAndChangesNothing() throws {
        // Given marathon's framework, subscribed on stream s1
        var h = try Self.harness()
        let id = try self.subscribe(&h, principal: "marathon", stream: "s1")
        // When another principal (or an anonymous caller) subscribes with its id
        var hijack = Fixture.framework(name: "evil", id: id)
        for principal in ["other", nil] as [String?] {
            #expect { try self.subscribe(&h, hijack, principal: principal, stream: "s2") } throws: {
                Self.forbidden($0, "registered by another principal")
            }
        }
        // Then the framework still belongs to marathon's stream
        #expect(h.state.frameworks[id]?.streamID == "s1")
        #expect(h.state.frameworks[id]?.info.name == "test")
        // and marathon itself may re-subscribe.
        hijack.name = "test"
        _ = try self.subscribe(&h, hijack, principal: "marathon", stream: "s3")
        #expect(h.state.frameworks[id]?.streamID == "s3")
    }

    @Test func callsOnAFrameworksStreamMustComeFromItsPrincipal() throws {
        var h = try Self.harness()
        let id = try self.subscribe(&h, principal: "marathon", stream: "s1")
        #expect { try h.state.authorize(id, streamID: "s1", principal: "other") } throws: {
            Self.forbidden($0, "calls on its stream must come from that principal")
        }
        #expect(try h.state.authorize(id, streamID: "s1", principal: "marathon") == id)
    }

    @Test func withoutCredentialsNothingIsBound() throws {
        // Given a master without credentials (as every master before)
        var h = MasterHarness()
        var info = Fixture.framework()
        info.principal = "anything"
        let id = try self.subscribe(&h, info, principal: nil, stream: "s1")
        // Then the claimed principal is kept and anyone may re-subscribe, as in Mesos without authentication
        #expect(h.state.frameworks[id]?.info.principal == "anything")
        var again = info
        again.id = id
        _ = try self.subscribe(&h, again, principal: nil, stream: "s2")
        #expect(h.state.frameworks[id]?.streamID == "s2")
    }

    @Test func registerFrameworksDecidesEachRole() throws {
        var h = try Self.harness(
            acls: """
                {"register_frameworks": [{"principals": {"values": ["marathon"]}, "roles": {"values": ["web"]}}]}
                """
        )
        #expect { try self.subscribe(&h, Fixture.framework(role: "batch"), principal: "marathon") } throws: {
            Self.forbidden($0, "register framework 'test' with role 'batch'") && "\($0)".contains("register_frameworks")
        }
        #expect { try self.subscribe(&h, Fixture.framework(role: "web"), principal: "other") } throws: {
            Self.forbidden($0, "Principal 'other' is not authorized")
        }
        #expect(h.state.frameworks.isEmpty)
        _ = try self.subscribe(&h, Fixture.framework(role: "web"), principal: "marathon")
        #expect(h.state.frameworks.count == 1)
    }

    // MARK: - run_tasks

    @Test func runTasksRefusesALaunchAsAUserThePrincipalMayNotUse() throws {
        // Given marathon may run tasks as nobody only
        var h = try Self.harness(
            acls: """
                {"register_frameworks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}],
                 "register_agents": [{"principals": {"type": "ANY"}, "agents": {"type": "ANY"}}],
                 "run_tasks": [{"principals": {"values": ["marathon"]}, "users": {"values": ["nobody"]}}]}
                """
        )
        let agent = try self.registerAgent(&h, principal: "agent-a")
        let framework = try self.subscribe(&h, principal: "marathon")
        let offer = try #require(h.offers(for: framework).first)
        // When it launches one task as root (the framework's user) and one as nobody (the command's user)
        var asNobody = Fixture.task("t2", agent: agent)
        asNobody.command?.user = "nobody"
        let actions = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent), asNobody], from: framework)
        // Then the root task gets TASK_ERROR naming the user and the ACL, the other one launches
        let error = try #require(updates(actions, to: framework).first { $0.taskId == "t1" })
        #expect(error.state == .error)
        #expect(error.reason == "REASON_TASK_UNAUTHORIZED")
        #expect(error.message?.contains("Not authorized to launch as user 'root'") == true)
        #expect(error.message?.contains("run_tasks") == true)
        #expect(launches(actions).map(\.taskId) == ["t2"])
        #expect(h.state.tasks[TaskKey(framework, "t1")] == nil)
        #expect(h.invariantsHold())
    }

    @Test func runTasksJudgesADockerTaskByTheUserItReallyRunsAs() throws {
        // Given marathon may run tasks as nobody only
        var h = try Self.harness(
            acls: """
                {"register_frameworks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}],
                 "register_agents": [{"principals": {"type": "ANY"}, "agents": {"type": "ANY"}}],
                 "run_tasks": [{"principals": {"values": ["marathon"]}, "users": {"values": ["nobody"]}}]}
                """
        )
        let agent = try self.registerAgent(&h, principal: "agent-a")
        let framework = try self.subscribe(&h, principal: "marathon")
        let offer = try #require(h.offers(for: framework).first)
        // When it launches Docker tasks: one whose command says nobody but whose `user` parameter says root, one with
        // no user at all (the image's, which the agent keeps), and one with `user=nobody`
        func docker(_ id: String, commandUser: String?, parameter: String?) -> TaskInfo {
            var task = Fixture.task(id, agent: agent)
            task.command?.user = commandUser
            task.container = ContainerInfo(
                type: .docker,
                docker: DockerInfo(image: "busybox", parameters: parameter.map { [.init(key: "user", value: $0)] })
            )
            return task
        }
        let actions = try h.accept(
            offer,
            tasks: [
                docker("t1", commandUser: "nobody", parameter: "0"), docker("t2", commandUser: nil, parameter: nil),
                docker("t3", commandUser: nil, parameter: "nobody"),
            ],
            from: framework
        )
        // Then only the last one launches
        let refused = updates(actions, to: framework).filter { $0.reason == "REASON_TASK_UNAUTHORIZED" }
        #expect(Set(refused.map(\.taskId)) == ["t1", "t2"])
        #expect(refused.first { $0.taskId == "t1" }?.message?.contains("as user '0'") == true)
        #expect(launches(actions).map(\.taskId) == ["t3"])
        #expect(h.invariantsHold())
    }

    // MARK: - Teardown

    @Test func teardownFollowsTeardownFrameworks() throws {
        var h = try Self.harness(
            acls: """
                {"register_frameworks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}],
                 "teardown_frameworks": [{"principals": {"values": ["ops"]},
                                          "framework_principals": {"values": ["marathon"]}}]}
                """
        )
        let id = try self.subscribe(&h, principal: "marathon")
        #expect { try h.state.teardown(id, by: "other", now: h.now) } throws: {
            Self.forbidden($0, "tear down framework") && "\($0)".contains("teardown_frameworks")
        }
        #expect(h.state.frameworks[id] != nil)
        _ = try h.state.teardown(id, by: "ops", now: h.now)
        #expect(h.state.frameworks[id] == nil)
        #expect(throws: MasterError.self) { try h.state.teardown(FrameworkID("nope"), by: "ops", now: h.now) }
    }

    // MARK: - Agents

    @Test func anAgentIdIsBoundToThePrincipalThatFirstRegisteredIt() throws {
        // Given agent-a's agent
        var h = try Self.harness()
        let id = try self.registerAgent(&h, principal: "agent-a", connection: 1)
        #expect(h.state.agentPrincipals[id] == "agent-a")
        _ = h.state.agentDisconnected(id, connection: 1, now: h.now)
        // When agent-b re-registers it by id, or from its address without an id
        #expect { try self.registerAgent(&h, id: id, principal: "agent-b", connection: 2) } throws: {
            Self.forbidden($0, "registered by another principal")
        }
        #expect { try self.registerAgent(&h, principal: "agent-b", connection: 3) } throws: {
            Self.forbidden($0, "registered by another principal")
        }
        // Then nothing changed: the agent is still there, disconnected, and still agent-a's
        #expect(h.state.agents[id]?.connection == nil)
        #expect(h.state.agents.count == 1)
        #expect(h.state.goneAgents.isEmpty)
        // and agent-a itself may come back.
        #expect(try self.registerAgent(&h, id: id, principal: "agent-a", connection: 4) == id)
    }

    @Test func forgedUpdateAndPongFromAnotherPrincipalAreForbidden() throws {
        // Given a task on agent-a's agent
        var h = try Self.harness()
        let agent = try self.registerAgent(&h, principal: "agent-a", connection: 1)
        let framework = try self.subscribe(&h, principal: "marathon")
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        // When agent-b sends UPDATE and PONG for it, even with its token
        let update = AgentCall.Update(frameworkId: framework, status: TaskStatus(taskId: "t1", state: .failed))
        #expect {
            try h.state.agentUpdate(update, from: agent, token: "token-1", principal: "agent-b", now: h.now)
        } throws: { Self.forbidden($0, "UPDATE names agent") }
        h.state.agents[agent]?.pingOutstanding = true
        #expect { try h.state.agentPong(agent, token: "token-1", principal: "agent-b") } throws: {
            Self.forbidden($0, "PONG names agent")
        }
        // Then nothing changed
        #expect(h.state.tasks[TaskKey(framework, "t1")]?.state == .staging)
        #expect(h.state.agents[agent]?.pingOutstanding == true)
        // and the agent's own principal may.
        try h.state.agentPong(agent, token: "token-1", principal: "agent-a")
        _ = try h.state.agentUpdate(update, from: agent, token: "token-1", principal: "agent-a", now: h.now)
        #expect(h.state.tasks[TaskKey(framework, "t1")] == nil)
    }

    @Test func theBindingComesBackFromTheRegistry() throws {
        // Given a registry entry written by the previous leader for agent-a's agent
        var h = try Self.harness()
        let info = Fixture.agentSubscribe(hostname: "a", id: AgentID("old-S1")).agentInfo
        h.state.recover([AgentRegistryEntry(agentInfo: info, state: .admitted, principal: "agent-a")], now: h.now)
        // Then only agent-a may re-register it
        #expect { try self.registerAgent(&h, id: AgentID("old-S1"), principal: "agent-b") } throws: {
            Self.forbidden($0, "registered by another principal")
        }
        #expect(h.state.recoveredAgents[AgentID("old-S1")] != nil)
        #expect(try self.registerAgent(&h, id: AgentID("old-S1"), principal: "agent-a") == AgentID("old-S1"))
    }

    @Test func registerAgentsDecidesWhoMayRegister() throws {
        var h = try Self.harness(
            acls: """
                {"register_agents": [{"principals": {"values": ["agent-a"]}, "agents": {"type": "ANY"}}]}
                """
        )
        #expect { try self.registerAgent(&h, principal: "marathon") } throws: {
            Self.forbidden($0, "not authorized to register agents") && "\($0)".contains("register_agents")
        }
        #expect(h.state.agents.isEmpty)
        _ = try self.registerAgent(&h, principal: "agent-a")
        #expect(h.state.agents.count == 1)
    }

    // MARK: - Views

    @Test func viewACLsLeaveOutFrameworksAndTasksTheCallerMayNotSee() throws {
        // Given marathon's framework (user root) with a task as root and one as nobody
        var h = try Self.harness(
            acls: """
                {"register_frameworks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}],
                 "register_agents": [{"principals": {"type": "ANY"}, "agents": {"type": "ANY"}}],
                 "run_tasks": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}],
                 "view_frameworks": [{"principals": {"values": ["ops", "other"]}, "users": {"type": "ANY"}}],
                 "view_tasks": [{"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
                                {"principals": {"values": ["other"]}, "users": {"values": ["nobody"]}}]}
                """
        )
        let agent = try self.registerAgent(&h, principal: "agent-a")
        let framework = try self.subscribe(&h, principal: "marathon")
        let offer = try #require(h.offers(for: framework).first)
        var asNobody = Fixture.task("t2", agent: agent)
        asNobody.command?.user = "nobody"
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent), asNobody], from: framework)
        // Then ops sees everything, other sees the framework and nobody's task, marathon (no view rule) nothing
        #expect(h.state.visible(to: "ops").tasks.count == 2)
        let other = h.state.visible(to: "other")
        #expect(other.frameworks[framework] != nil)
        #expect(other.tasks.keys.map(\.taskID) == ["t2"])
        #expect(other.frameworks[framework]?.tasks == ["t2"])
        #expect(other.agents[agent]?.tasks.map(\.taskID) == ["t2"])
        let marathon = h.state.visible(to: "marathon")
        #expect(marathon.frameworks.isEmpty && marathon.tasks.isEmpty)
        #expect(h.state.visible(to: nil).tasks.isEmpty)
        // Without ACLs the state is shown whole.
        #expect(MasterHarness().state.visible(to: nil).frameworks.isEmpty)
    }

    // MARK: - Registry entries

    @Test func registryEntriesKeepThePrincipalAndOldEntriesStillRead() throws {
        let info = Fixture.agentSubscribe(hostname: "a", id: AgentID("m-S1")).agentInfo
        let entry = AgentRegistryEntry(agentInfo: info, state: .admitted, changedAt: 1, principal: "agent-a")
        #expect(try AgentRegistryEntry(data: entry.encoded()) == entry)
        var old = entry
        old.principal = nil
        let text = String(decoding: try old.encoded(), as: UTF8.self)
        #expect(!text.contains("principal"))
        #expect(try AgentRegistryEntry(data: Array(text.utf8)).principal == nil)
    }
}
