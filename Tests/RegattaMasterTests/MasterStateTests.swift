// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

/// Helpers to drive a `MasterState` through typical sequences.
struct MasterHarness {
    var state: MasterState
    var now: Duration = .zero
    var nextStream = 0

    init(configuration: MasterConfiguration = MasterConfiguration()) {
        self.state = MasterState(masterID: "m", configuration: configuration)
    }

    mutating func addAgent(_ hostname: String = "agent-1", cpus: Double = 4, memMB: Double = 8192,
                           partitionTasks: [AgentTask] = [], id: AgentID? = nil, connection: Int = 1) -> AgentID {
        // A registration without a token never throws (only one that replaces a token-holding stream can).
        let (agentID, actions) = try! self.state.subscribeAgent(
            Fixture.agentSubscribe(hostname: hostname, id: id, cpus: cpus, memMB: memMB, tasks: partitionTasks),
            connection: connection, pingInterval: .seconds(15), masterInfo: nil, now: self.now)
        #expect(actions.first == .agentMessage(agentID, actions.first.flatMap { action -> AgentMessage? in
            if case .agentMessage(_, let message) = action { return message } else { return nil }
        }!))
        return agentID
    }

    mutating func subscribe(_ info: FrameworkInfo = Fixture.framework()) throws -> (FrameworkID, String) {
        self.nextStream += 1
        let stream = "s\(self.nextStream)"
        let (id, _) = try self.state.subscribe(
            framework: info, streamID: stream, heartbeat: .seconds(15), masterInfo: nil, now: self.now)
        return (id, stream)
    }

    mutating func offers(for framework: FrameworkID) -> [Offer] {
        self.state.allocate(now: self.now).flatMap { action -> [Offer] in
            if case .frameworkEvent(let id, let event) = action, id == framework, event.type == .offers {
                return event.offers?.offers ?? []
            }
            return []
        }
    }

    mutating func call(_ call: SchedulerCall, from id: FrameworkID) throws -> [MasterAction] {
        try self.state.handle(call, from: id, now: self.now)
    }

    mutating func accept(_ offer: Offer, tasks: [TaskInfo], refuse: Double? = nil, from id: FrameworkID) throws
        -> [MasterAction]
    {
        var call = SchedulerCall(frameworkId: id, type: .accept)
        call.accept = .init(offerIds: [offer.id], operations: [.launch(tasks)], filters: refuse.map { Filters(refuseSeconds: $0) })
        return try self.call(call, from: id)
    }

    func invariantsHold() -> Bool {
        self.state.agents.values.allSatisfy { $0.total.contains($0.used + $0.offered) }
    }
}

func updates(_ actions: [MasterAction], to framework: FrameworkID) -> [TaskStatus] {
    actions.compactMap { action in
        if case .frameworkEvent(let id, let event) = action, id == framework, event.type == .update {
            return event.update?.status
        }
        return nil
    }
}

func launches(_ actions: [MasterAction]) -> [TaskInfo] {
    actions.compactMap { action in
        if case .agentMessage(_, let message) = action, message.type == .launch { return message.launch?.task }
        return nil
    }
}

@Suite struct MasterStateTests {
    @Test func registersAgentsWithNewIDsAndKeepsIDOnReregistration() {
        // Given
        var h = MasterHarness()
        // When
        let first = h.addAgent("a")
        let second = h.addAgent("b", connection: 2)
        let again = h.addAgent("a", id: first, connection: 3)
        // Then
        #expect(first != second)
        #expect(again == first)
        #expect(h.state.agents.count == 2)
        #expect(h.state.agents[first]?.connection == 3)
    }

    @Test func agentSubscribingWithoutItsIDWhileItsStreamIsOpenGetsTheSameID() throws {
        // Given an agent registered from sim-1:5051 whose SUBSCRIBE the master answered after it gave up on it
        var h = MasterHarness()
        let first = h.addAgent("sim-1", connection: 1)
        // When it subscribes again without an id on a new connection
        let (again, actions) = try h.state.subscribeAgent(
            Fixture.agentSubscribe(hostname: "sim-1", id: nil, cpus: 4, memMB: 8192, tasks: []),
            connection: 2, pingInterval: .seconds(15), masterInfo: nil, now: h.now)
        // Then it is the same agent (Mesos: "already registered, resending acknowledgement"), not a phantom second one
        #expect(again == first)
        #expect(h.state.agents.count == 1)
        #expect(h.state.agents[first]?.connection == 2)
        #expect(actions.contains(.closeAgentStream(first, connection: 1)))
        // and an agent at another address is still a new one
        #expect(h.addAgent("sim-2", connection: 3) != first)
    }

    @Test func newAgentAtTheAddressOfADisconnectedOneReplacesIt() throws {
        // Given a disconnected agent with a running task
        var h = MasterHarness()
        let old = h.addAgent("sim-1", connection: 1)
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: old, cpus: 1)], from: framework)
        _ = h.state.agentDisconnected(old, connection: 1, now: h.now)
        // When an agent without an id registers from the same address (the old one lost its state)
        let (replacement, actions) = try h.state.subscribeAgent(
            Fixture.agentSubscribe(hostname: "sim-1", id: nil, cpus: 4, memMB: 8192, tasks: []),
            connection: 2, pingInterval: .seconds(15), masterInfo: nil, now: h.now)
        // Then it is a new agent, the old one is removed for good and its task is lost
        #expect(replacement != old)
        #expect(h.state.agents[old] == nil)
        #expect(h.state.agents.count == 1)
        #expect(h.state.isGone(old))
        let lost = updates(actions, to: framework)
        #expect(lost.map(\.state) == [.lost])
        #expect(lost.first?.reason == "REASON_AGENT_REMOVED")
        #expect(h.invariantsHold())
    }

    @Test func subscribedFrameworkIsOfferedAgentResources() throws {
        // Given
        var h = MasterHarness()
        let agent = h.addAgent(cpus: 2, memMB: 1024)
        let (framework, _) = try h.subscribe()
        // When
        let offers = h.offers(for: framework)
        // Then
        #expect(offers.count == 1)
        #expect(offers[0].agentId == agent)
        #expect(offers[0].bag.scalar("cpus") == Scalar(2))
        #expect(offers[0].resources.allSatisfy { $0.allocationRole == "*" })
        #expect(h.offers(for: framework).isEmpty, "offered resources are not offered twice")
        #expect(h.invariantsHold())
    }

    @Test func acceptLaunchesTaskAndDeclinesTheRestForRefuseSeconds() throws {
        // Given
        var h = MasterHarness()
        let agent = h.addAgent(cpus: 4, memMB: 4096)
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        // When
        let actions = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent, cpus: 1, memMB: 512)], refuse: 10, from: framework)
        // Then
        #expect(launches(actions).map(\.taskId) == ["t1"])
        #expect(h.state.agents[agent]?.used.scalar("cpus") == Scalar(1))
        #expect(h.state.tasks[TaskKey(framework, "t1")]?.state == .staging)
        h.now += .seconds(5)
        #expect(h.offers(for: framework).isEmpty, "filtered for 10 s")
        h.now += .seconds(6)
        let again = h.offers(for: framework)
        #expect(again.first?.bag.scalar("cpus") == Scalar(3))
        #expect(h.invariantsHold())
    }

    @Test func taskUsingMoreThanOfferedFailsWithTaskError() throws {
        // Given
        var h = MasterHarness()
        let agent = h.addAgent(cpus: 1, memMB: 512)
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        // When
        let actions = try h.accept(offer, tasks: [Fixture.task("big", agent: agent, cpus: 2)], from: framework)
        // Then
        let statuses = updates(actions, to: framework)
        #expect(statuses.map(\.state) == [.error])
        #expect(statuses.first?.reason == "REASON_TASK_INVALID")
        #expect(statuses.first?.message?.contains("more resources") == true)
        #expect(launches(actions).isEmpty)
        #expect(h.state.agents[agent]?.used.isEmpty == true)
    }

    @Test func duplicateTaskIDAndPortsOutsideTheOfferAreRejected() throws {
        var h = MasterHarness()
        let agent = h.addAgent(cpus: 4, memMB: 4096)
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        let actions = try h.accept(
            offer,
            tasks: [
                Fixture.task("t1", agent: agent, cpus: 0.5), Fixture.task("t1", agent: agent, cpus: 0.5),
                Fixture.task("t2", agent: agent, cpus: 0.5, ports: [80]),
            ], from: framework)
        #expect(launches(actions).map(\.taskId) == ["t1"])
        #expect(updates(actions, to: framework).map(\.taskId) == ["t1", "t2"])
        #expect(updates(actions, to: framework).allSatisfy { $0.state == .error })
    }

    @Test func acceptingAnUnknownOfferDropsTheTasks() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe()
        let bogus = Fixture.offer("nope", agent: agent.value, framework: framework.value)
        let actions = try h.accept(bogus, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        #expect(updates(actions, to: framework).map(\.state) == [.dropped])
        #expect(updates(actions, to: framework).first?.reason == "REASON_INVALID_OFFERS")
    }

    @Test func declineFilterDefaultsToFiveSeconds() throws {
        var h = MasterHarness()
        _ = h.addAgent()
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        var decline = SchedulerCall(frameworkId: framework, type: .decline)
        decline.decline = .init(offerIds: [offer.id])
        _ = try h.call(decline, from: framework)
        h.now += .seconds(4)
        #expect(h.offers(for: framework).isEmpty)
        h.now += .seconds(2)
        #expect(h.offers(for: framework).count == 1)
    }

    @Test func suppressStopsOffersAndReviveClearsFilters() throws {
        var h = MasterHarness()
        _ = h.addAgent()
        let (framework, _) = try h.subscribe()
        _ = try h.call(SchedulerCall(frameworkId: framework, type: .suppress), from: framework)
        #expect(h.offers(for: framework).isEmpty)
        _ = try h.call(SchedulerCall(frameworkId: framework, type: .revive), from: framework)
        #expect(h.offers(for: framework).count == 1)
    }

    @Test func statusUpdatesAreForwardedAndTerminalOnesFreeResources() throws {
        var h = MasterHarness()
        let agent = h.addAgent(cpus: 2)
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent, cpus: 1)], from: framework)
        let running = try h.state.agentUpdate(
            .init(frameworkId: framework, status: TaskStatus(taskId: "t1", state: .running, uuid: "dQ==")), from: agent)
        #expect(running.delivered)
        #expect(updates(running.actions, to: framework).map(\.state) == [.running])
        #expect(updates(running.actions, to: framework).first?.agentId == agent)
        let finished = try h.state.agentUpdate(
            .init(frameworkId: framework, status: TaskStatus(taskId: "t1", state: .finished)), from: agent)
        #expect(updates(finished.actions, to: framework).map(\.state) == [.finished])
        #expect(h.state.agents[agent]?.used.isEmpty == true)
        #expect(h.state.tasks.isEmpty)
        #expect(h.state.frameworks[framework]?.completedTasks.count == 1)
    }

    @Test func updatesForADisconnectedFrameworkAreNotDeliveredSoTheAgentRetries() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, stream) = try h.subscribe(Fixture.framework(failoverTimeout: 60))
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        _ = h.state.frameworkDisconnected(framework, streamID: stream, now: h.now)
        let result = try h.state.agentUpdate(
            .init(frameworkId: framework, status: TaskStatus(taskId: "t1", state: .running)), from: agent)
        #expect(!result.delivered)
        #expect(h.state.tasks[TaskKey(framework, "t1")]?.state == .running)
    }

    @Test func updateFromUnknownAgentIsRefused() {
        var h = MasterHarness()
        #expect(throws: MasterError.self) {
            try h.state.agentUpdate(.init(frameworkId: "f", status: TaskStatus(taskId: "t", state: .running)), from: "nope")
        }
    }

    @Test func killOfUnknownTaskAnswersTaskLost() throws {
        var h = MasterHarness()
        let (framework, _) = try h.subscribe()
        var kill = SchedulerCall(frameworkId: framework, type: .kill)
        kill.kill = .init(taskId: "ghost", agentId: nil)
        let actions = try h.call(kill, from: framework)
        #expect(updates(actions, to: framework).map(\.state) == [.lost])
    }

    @Test func killOfKnownTaskGoesToItsAgent() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        var kill = SchedulerCall(frameworkId: framework, type: .kill)
        kill.kill = .init(taskId: "t1", agentId: agent)
        let actions = try h.call(kill, from: framework)
        #expect(actions.contains { if case .agentMessage(agent, let m) = $0 { m.type == .kill } else { false } })
    }

    @Test func callsNeedTheCurrentStreamID() throws {
        var h = MasterHarness()
        let (framework, stream) = try h.subscribe()
        #expect(try h.state.authorize(framework, streamID: stream) == framework)
        #expect(throws: MasterError.self) { try h.state.authorize(framework, streamID: nil) }
        #expect(throws: MasterError.self) { try h.state.authorize(framework, streamID: "stale") }
        #expect(throws: MasterError.self) { try h.state.authorize(FrameworkID("unknown"), streamID: stream) }
        do {
            _ = try h.state.authorize(framework, streamID: "stale")
        } catch let error as MasterError {
            #expect(error.status == 403)
        }
    }

    @Test func resubscribeWithinFailoverTimeoutKeepsTasksAndClosesTheOldStream() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, stream) = try h.subscribe(Fixture.framework(failoverTimeout: 60))
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        // A second connection of the same framework replaces the first.
        let (again, actions) = try h.state.subscribe(
            framework: Fixture.framework(id: framework, failoverTimeout: 60), streamID: "s-new",
            heartbeat: .seconds(15), masterInfo: nil, now: h.now)
        #expect(again == framework)
        #expect(actions.contains(.closeFrameworkStream(framework, streamID: stream)))
        h.now += .seconds(30)
        #expect(h.state.tick(now: h.now).isEmpty)
        #expect(h.state.tasks[TaskKey(framework, "t1")] != nil)
    }

    @Test func failoverTimeoutExpiryRemovesTheFrameworkAndKillsItsTasks() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, stream) = try h.subscribe(Fixture.framework(failoverTimeout: 10))
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        _ = h.state.frameworkDisconnected(framework, streamID: stream, now: h.now)
        h.now += .seconds(9)
        #expect(h.state.tick(now: h.now).isEmpty)
        h.now += .seconds(2)
        let actions = h.state.tick(now: h.now)
        #expect(actions.contains { if case .agentMessage(agent, let m) = $0 { m.type == .kill } else { false } })
        #expect(h.state.frameworks[framework] == nil)
        #expect(throws: MasterError.self) { _ = try h.subscribe(Fixture.framework(id: framework)) }
    }

    @Test func agentMissingPingsBecomesUnreachableAndItsTasksAreReported() throws {
        var configuration = MasterConfiguration()
        configuration.maxAgentPingTimeouts = 3
        var h = MasterHarness(configuration: configuration)
        let agent = h.addAgent()
        let (aware, _) = try h.subscribe(Fixture.framework(name: "aware", partitionAware: true))
        let (legacy, _) = try h.subscribe(Fixture.framework(name: "legacy"))
        for framework in [aware, legacy] {
            let offer = try #require(h.offers(for: framework).first)
            _ = try h.accept(offer, tasks: [Fixture.task("t-\(framework)", agent: agent)], refuse: 0, from: framework)
        }
        var all: [MasterAction] = []
        for _ in 0..<3 {
            all += h.state.pingAgents(now: h.now)
        }
        #expect(h.state.agents[agent]?.unreachable == false)
        all += h.state.pingAgents(now: h.now)
        #expect(h.state.agents[agent]?.unreachable == true)
        #expect(updates(all, to: aware).map(\.state) == [.unreachable])
        #expect(updates(all, to: legacy).map(\.state) == [.lost])
        // A pong in time keeps an agent reachable.
        let other = h.addAgent("b", connection: 9)
        _ = h.state.pingAgents(now: h.now)
        try h.state.agentPong(other)
        _ = h.state.pingAgents(now: h.now)
        try h.state.agentPong(other)
        #expect(h.state.agents[other]?.missedPings == 0)
    }

    @Test func reregisteringAgentReportsTasksBackFromUnreachable() throws {
        var configuration = MasterConfiguration()
        configuration.maxAgentPingTimeouts = 1
        var h = MasterHarness(configuration: configuration)
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe(Fixture.framework(partitionAware: true))
        let offer = try #require(h.offers(for: framework).first)
        let task = Fixture.task("t1", agent: agent)
        _ = try h.accept(offer, tasks: [task], from: framework)
        _ = h.state.pingAgents(now: h.now)
        _ = h.state.pingAgents(now: h.now)
        #expect(h.state.tasks[TaskKey(framework, "t1")]?.state == .unreachable)
        let (_, actions) = try h.state.subscribeAgent(
            Fixture.agentSubscribe(id: agent, tasks: [AgentTask(frameworkId: framework, task: task, state: .running)]),
            connection: 5, pingInterval: .seconds(15), masterInfo: nil, now: h.now)
        #expect(updates(actions, to: framework).map(\.state) == [.running])
        #expect(h.state.tasks[TaskKey(framework, "t1")]?.state == .running)
    }

    @Test func reconciliationAnswersKnownAndUnknownTasks() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        var implicit = SchedulerCall(frameworkId: framework, type: .reconcile)
        implicit.reconcile = .init(tasks: [])
        #expect(updates(try h.call(implicit, from: framework), to: framework).map(\.taskId) == ["t1"])
        var explicit = SchedulerCall(frameworkId: framework, type: .reconcile)
        explicit.reconcile = .init(tasks: [.init(taskId: "t1", agentId: agent), .init(taskId: "ghost", agentId: nil)])
        let statuses = updates(try h.call(explicit, from: framework), to: framework)
        #expect(statuses.map(\.state) == [.staging, .lost])
        #expect(statuses.allSatisfy { $0.uuid == nil })
    }

    @Test func teardownKillsTasksAndClosesTheStream() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, stream) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        let actions = try h.call(SchedulerCall(frameworkId: framework, type: .teardown), from: framework)
        #expect(actions.contains(.closeFrameworkStream(framework, streamID: stream)))
        #expect(actions.contains { if case .agentMessage(agent, let m) = $0 { m.type == .kill } else { false } })
        #expect(h.state.frameworks.isEmpty)
    }

    @Test func drfOffersTheNextAgentToTheFrameworkWithTheLowestShare() throws {
        var h = MasterHarness()
        let first = h.addAgent("a", cpus: 4)
        _ = h.addAgent("b", cpus: 4, connection: 2)
        let (busy, _) = try h.subscribe(Fixture.framework(name: "busy"))
        let offer = try #require(h.offers(for: busy).first { $0.agentId == first })
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: first, cpus: 3)], refuse: 0, from: busy)
        let (idle, _) = try h.subscribe(Fixture.framework(name: "idle"))
        let actions = h.state.allocate(now: h.now)
        let offered = actions.compactMap { action -> (FrameworkID, [Offer])? in
            if case .frameworkEvent(let id, let event) = action, let offers = event.offers?.offers { return (id, offers) }
            return nil
        }
        // The idle framework (share 0) gets the first agent considered; the busy one the other.
        #expect(offered.first { $0.0 == idle }?.1.count == 1)
        #expect(h.invariantsHold())
    }

    @Test(arguments: [1, 2, 3, 42, 1234])
    func randomInterleavingsNeverOverCommitAnAgent(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        var h = MasterHarness()
        var agents: [AgentID] = []
        for index in 0..<3 { agents.append(h.addAgent("h\(index)", cpus: 2, memMB: 1024, connection: index + 1)) }
        var frameworks: [FrameworkID] = []
        for index in 0..<3 { frameworks.append(try h.subscribe(Fixture.framework(name: "f\(index)")).0) }
        var outstanding: [Offer] = []
        var taskNumber = 0
        for _ in 0..<400 {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0:
                let actions = h.state.allocate(now: h.now)
                for case .frameworkEvent(_, let event) in actions { outstanding += event.offers?.offers ?? [] }
            case 1, 2:
                guard !outstanding.isEmpty else { continue }
                let offer = outstanding.remove(at: Int.random(in: 0..<outstanding.count, using: &rng))
                // Sometimes ask for more than offered, sometimes reuse a consumed offer.
                let tasks = (0..<Int.random(in: 1...3, using: &rng)).map { _ -> TaskInfo in
                    taskNumber += 1
                    return Fixture.task("t\(taskNumber)", agent: offer.agentId,
                                        cpus: Double(Int.random(in: 1...8, using: &rng)) / 4,
                                        memMB: Double(Int.random(in: 1...6, using: &rng)) * 128)
                }
                _ = try h.accept(offer, tasks: tasks, refuse: 0, from: offer.frameworkId)
                if Bool.random(using: &rng) { _ = try h.accept(offer, tasks: tasks, refuse: 0, from: offer.frameworkId) }
            case 3:
                guard let key = h.state.tasks.keys.randomElement(using: &rng), let task = h.state.tasks[key] else { continue }
                let state: TaskState = [.running, .finished, .failed, .killed].randomElement(using: &rng)!
                _ = try? h.state.agentUpdate(.init(frameworkId: key.frameworkID, status: TaskStatus(taskId: key.taskID, state: state)), from: task.agentID)
            case 4:
                guard !outstanding.isEmpty else { continue }
                let offer = outstanding.removeFirst()
                var decline = SchedulerCall(frameworkId: offer.frameworkId, type: .decline)
                decline.decline = .init(offerIds: [offer.id], filters: Filters(refuseSeconds: 0))
                _ = try h.call(decline, from: offer.frameworkId)
            default:
                h.now += .milliseconds(Int64.random(in: 0...2000, using: &rng))
                let agent = agents.randomElement(using: &rng)!
                _ = h.state.agentDisconnected(agent, connection: h.state.agents[agent]?.connection ?? -1, now: h.now)
                _ = try h.state.subscribeAgent(
                    Fixture.agentSubscribe(hostname: "x", id: agent, cpus: 2, memMB: 1024,
                                           tasks: h.state.tasks.values.filter { $0.agentID == agent }.map {
                                               AgentTask(frameworkId: $0.frameworkID, task: $0.info, state: $0.state) }),
                    connection: Int.random(in: 10...10000, using: &rng), pingInterval: .seconds(15), masterInfo: nil, now: h.now)
            }
            #expect(h.invariantsHold(), "over-commit with seed \(seed)")
        }
    }
}


@Suite struct MasterOperatorTests {
    @Test func deactivatedAgentIsNotOfferedUntilReactivated() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        let actions = try h.state.deactivateAgent(agent)
        #expect(actions.contains(.frameworkEvent(framework, .rescind(offer.id))))
        #expect(h.offers(for: framework).isEmpty)
        try h.state.reactivateAgent(agent)
        #expect(h.offers(for: framework).count == 1)
    }

    @Test func drainingKillsTasksAndMarksTheAgentGoneOnceEmpty() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        let actions = try h.state.drainAgent(agent, markGone: true, now: h.now)
        #expect(actions.contains { if case .agentMessage(agent, let m) = $0 { m.type == .kill } else { false } })
        #expect(h.state.agents[agent] != nil, "still draining")
        _ = try h.state.agentUpdate(.init(frameworkId: framework, status: TaskStatus(taskId: "t1", state: .killed)), from: agent)
        #expect(h.state.agents[agent] == nil)
        #expect(h.state.isGone(agent))
    }

    @Test func markingGoneReportsTasksGoneByOperator() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        let actions = try h.state.markAgentGone(agent, now: h.now)
        #expect(updates(actions, to: framework).map(\.state) == [.goneByOperator])
        #expect(actions.contains(.frameworkEvent(framework, .failure(agent: agent))))
        #expect(throws: MasterError.self) { try h.state.markAgentGone(agent, now: h.now) }
    }

    @Test func reservedResourcesAreOfferedOnlyToTheirRole() throws {
        var h = MasterHarness()
        var resources = Fixture.resources(cpus: 2, memMB: 1024)
        try resources.add(.scalar("cpus", 4, role: "web"))
        let (agent, _) = try h.state.subscribeAgent(
            AgentCall.Subscribe(agentInfo: AgentInfo(hostname: "r", resources: resources), tasks: []),
            connection: 1, pingInterval: .seconds(15), masterInfo: nil, now: h.now)
        let (web, _) = try h.subscribe(Fixture.framework(name: "web", role: "web"))
        let webOffer = try #require(h.offers(for: web).first)
        #expect(webOffer.bag.scalar("cpus") == Scalar(6))
        try h.state.reactivateAgent(agent)
        var h2 = MasterHarness()
        _ = try h2.state.subscribeAgent(
            AgentCall.Subscribe(agentInfo: AgentInfo(hostname: "r", resources: resources), tasks: []),
            connection: 1, pingInterval: .seconds(15), masterInfo: nil, now: h2.now)
        let (other, _) = try h2.subscribe(Fixture.framework(name: "other", role: "batch"))
        let otherOffer = try #require(h2.offers(for: other).first)
        #expect(otherOffer.bag.scalar("cpus") == Scalar(2))
        #expect(otherOffer.resources.allSatisfy { $0.role == "*" })
    }

    @Test func roleWeightsTiltTheShare() throws {
        var configuration = MasterConfiguration()
        configuration.weights = ["heavy": 4]
        var h = MasterHarness(configuration: configuration)
        for index in 0..<4 { _ = h.addAgent("h\(index)", cpus: 1, memMB: 512, connection: index + 1) }
        let (heavy, _) = try h.subscribe(Fixture.framework(name: "heavy", role: "heavy"))
        let (light, _) = try h.subscribe(Fixture.framework(name: "light", role: "light"))
        let actions = h.state.allocate(now: h.now)
        var counts: [FrameworkID: Int] = [:]
        for case .frameworkEvent(let id, let event) in actions { counts[id, default: 0] += event.offers?.offers.count ?? 0 }
        // With weight 4 the heavy role's share grows 4× slower, so it gets 3 of the 4 agents.
        #expect(counts[heavy] == 3)
        #expect(counts[light] == 1)
    }
}

@Suite struct MasterReregistrationTests {
    @Test func terminalStateReportedOnReregistrationReleasesResourcesWithoutAnExtraUpdate() throws {
        var h = MasterHarness()
        let agent = h.addAgent(cpus: 2)
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        let task = Fixture.task("t1", agent: agent, cpus: 1)
        _ = try h.accept(offer, tasks: [task], from: framework)
        let (_, actions) = try h.state.subscribeAgent(
            Fixture.agentSubscribe(id: agent, cpus: 2, tasks: [AgentTask(frameworkId: framework, task: task, state: .failed)]),
            connection: 7, pingInterval: .seconds(15), masterInfo: nil, now: h.now)
        #expect(updates(actions, to: framework).isEmpty)
        #expect(h.state.tasks[TaskKey(framework, "t1")] == nil)
        #expect(h.state.agents[agent]?.used.isEmpty == true)
    }
}
