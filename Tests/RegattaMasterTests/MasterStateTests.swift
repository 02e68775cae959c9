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

    mutating func addAgent(
        _ hostname: String = "agent-1",
        cpus: Double = 4,
        memMB: Double = 8192,
        partitionTasks: [AgentTask] = [],
        id: AgentID? = nil,
        connection: Int = 1
    ) -> AgentID {
        // A registration without a token never throws (only one that replaces a token-holding stream can).
        let (agentID, actions) = try! self.state.subscribeAgent(
            Fixture.agentSubscribe(hostname: hostname, id: id, cpus: cpus, memMB: memMB, tasks: partitionTasks),
            connection: connection,
            pingInterval: .seconds(15),
            masterInfo: nil,
            now: self.now
        )
        #expect(
            actions.first
                == .agentMessage(
                    agentID,
                    actions.first.flatMap { action -> AgentMessage? in
                        if case .agentMessage(_, let message) = action { return message } else { return nil }
                    }!
                )
        )
        return agentID
    }

    mutating func subscribe(_ info: FrameworkInfo = Fixture.framework()) throws -> (FrameworkID, String) {
        self.nextStream += 1
        let stream = "s\(self.nextStream)"
        let (id, _) = try self.state.subscribe(
            framework: info,
            streamID: stream,
            heartbeat: .seconds(15),
            masterInfo: nil,
            now: self.now
        )
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

    mutating func accept(
        _ offer: Offer,
        tasks: [TaskInfo],
        refuse: Double? = nil,
        from id: FrameworkID
    ) throws
        -> [MasterAction]
    {
        var call = SchedulerCall(frameworkId: id, type: .accept)
        call.accept = .init(
            offerIds: [offer.id],
            operations: [.launch(tasks)],
            filters: refuse.map { Filters(refuseSeconds: $0) }
        )
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
                    return Fixture.task(
                        "t\(taskNumber)",
                        agent: offer.agentId,
                        cpus: Double(Int.random(in: 1...8, using: &rng)) / 4,
                        memMB: Double(Int.random(in: 1...6, using: &rng)) * 128
                    )
                }
                _ = try h.accept(offer, tasks: tasks, refuse: 0, from: offer.frameworkId)
                if Bool.random(using: &rng) {
                    _ = try h.accept(offer, tasks: tasks, refuse: 0, from: offer.frameworkId)
                }
            case 3:
                guard let key = h.state.tasks.keys.randomElement(using: &rng), let task = h.state.tasks[key] else {
                    continue
                }
                let state: TaskState = [.running, .finished, .failed, .killed].randomElement(using: &rng)!
                _ = try? h.state.agentUpdate(
                    .init(frameworkId: key.frameworkID, status: TaskStatus(taskId: key.taskID, state: state)),
                    from: task.agentID,
                    now: h.now
                )
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
                    Fixture.agentSubscribe(
                        hostname: "x",
                        id: agent,
                        cpus: 2,
                        memMB: 1024,
                        tasks: h.state.tasks.values.filter { $0.agentID == agent }.map {
                            AgentTask(frameworkId: $0.frameworkID, task: $0.info, state: $0.state)
                        }
                    ),
                    connection: Int.random(in: 10...10000, using: &rng),
                    pingInterval: .seconds(15),
                    masterInfo: nil,
                    now: h.now
                )
            }
            #expect(h.invariantsHold(), "over-commit with seed \(seed)")
        }
    }
}
