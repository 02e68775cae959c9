// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

@Suite struct MasterStateViewTests {
    /// A master with agents (attributes whose names sort around `_` and upper case, reserved resources, a set
    /// resource), two frameworks with running, healthy, labelled, unreachable-free and completed tasks, an
    /// outstanding offer and a text that needs escaping.
    static func populated() throws -> MasterHarness {
        var h = MasterHarness()
        for index in 0..<3 {
            var resources = Fixture.resources(cpus: 4 + Double(index) / 4, memMB: 8192)
            try resources.add(.scalar("cpus", 2, role: "web"))
            try resources.add(Resource(name: "zones", value: .set(["b", "a"]), role: "*"))
            let info = AgentInfo(
                hostname: "agent-\(index)\"\\/\n",
                port: 5051,
                resources: resources,
                attributes: [
                    Attribute(name: "rack", value: .text("r\(index)")),
                    Attribute(name: "rack_id", value: .scalar(Scalar(1.5))),
                    Attribute(name: "rackA", value: .text("x")), Attribute(name: "Zone", value: .text("é")),
                ]
            )
            _ = try h.state.subscribeAgent(
                AgentCall.Subscribe(agentInfo: info, tasks: []),
                connection: index + 1,
                pingInterval: .seconds(15),
                masterInfo: nil,
                now: h.now
            )
        }
        let (web, _) = try h.subscribe(Fixture.framework(name: "web", role: "web"))
        let (batch, _) = try h.subscribe(Fixture.framework(name: "batch"))
        var taskNumber = 0
        for case .frameworkEvent(let framework, let event) in h.state.allocate(now: h.now) {
            for (index, offer) in (event.offers?.offers ?? []).enumerated() where index < 2 {
                taskNumber += 1
                var task = Fixture.task("t\(taskNumber)", agent: offer.agentId, cpus: 0.25, memMB: 64)
                if taskNumber == 1 {
                    task.labels = Labels([.init(key: "tier", value: "front/end"), .init(key: "x", value: nil)])
                }
                _ = try h.accept(offer, tasks: [task], refuse: 0, from: framework)
                _ = try h.state.agentUpdate(
                    .init(
                        frameworkId: framework,
                        status: TaskStatus(
                            taskId: task.taskId,
                            state: .running,
                            timestamp: 1_763_767_200.125,
                            healthy: taskNumber.isMultiple(of: 2)
                        )
                    ),
                    from: offer.agentId,
                    now: h.now
                )
                if taskNumber == 3 {
                    _ = try h.state.agentUpdate(
                        .init(frameworkId: framework, status: TaskStatus(taskId: task.taskId, state: .finished)),
                        from: offer.agentId,
                        now: h.now
                    )
                }
            }
        }
        #expect(taskNumber >= 2)
        _ = (web, batch)
        _ = h.state.allocate(now: h.now)  // outstanding offers for what is left
        return h
    }

    @Test func stateIsByteForByteWhatJSONEncoderWrites() throws {
        let h = try Self.populated()
        var configuration = MasterConfiguration()
        configuration.cluster = "bench \"cluster\""
        let master = Master(
            configuration: configuration,
            masterID: "m",
            logger: Logger(label: "test"),
            uptime: { .seconds(5) },
            wallTime: { 1_763_767_000.5 }
        )
        let view = MasterStateView(state: h.state, master: master)
        let fast = try view.encodeState()
        let foundation = try MasterStateView.foundationEncode(view.stateDocument())
        #expect(String(decoding: fast, as: UTF8.self) == String(decoding: foundation, as: UTF8.self))
        #expect(!h.state.tasks.isEmpty && !h.state.offers.isEmpty)
    }

    @Test func cachedTasksAreRewrittenWhenTheyChangeAndNeverServedStale() throws {
        var h = try Self.populated()
        let master = Master(
            configuration: MasterConfiguration(),
            masterID: "m",
            logger: Logger(label: "test"),
            uptime: { .seconds(5) },
            wallTime: { 1_763_767_000.5 }
        )
        let first = try MasterStateView(state: h.state, master: master).encodeState()
        #expect(master.taskJSONCache.count > 0, "the first request fills the cache")
        // Served from the cache: the same bytes, and still what JSONEncoder writes.
        let second = MasterStateView(state: h.state, master: master)
        let cached = try second.encodeState()
        #expect(cached == first)
        #expect(cached == (try MasterStateView.foundationEncode(second.stateDocument())))
        #expect(
            try MasterStateView(state: h.state, master: master).encodeTasks()
                == (try Self.foundationTasks(h.state, master: master))
        )

        // A running task changes: its new state and status are written, not the cached ones.
        let (key, record) = try #require(h.state.tasks.first { $0.value.state == .running })
        _ = try h.state.agentUpdate(
            .init(
                frameworkId: key.frameworkID,
                status: TaskStatus(
                    taskId: key.taskID,
                    state: .killed,
                    timestamp: 1_763_767_300.5
                )
            ),
            from: record.agentID,
            now: h.now
        )
        let third = MasterStateView(state: h.state, master: master)
        let changed = try third.encodeState()
        #expect(changed != first)
        #expect(changed == (try MasterStateView.foundationEncode(third.stateDocument())))
        #expect(String(decoding: changed, as: UTF8.self).contains("1763767300.5"))
    }

    @Test func taskArraysAreReusedWhileNoTaskChangesAndCopiesChangedApartNeverShareAVersion() throws {
        var h = try Self.populated()
        let master = Master(
            configuration: MasterConfiguration(),
            masterID: "m",
            logger: Logger(label: "test"),
            uptime: { .seconds(5) },
            wallTime: { 1_763_767_000.5 }
        )
        let first = try MasterStateView(state: h.state, master: master).encodeState()
        #expect(master.taskJSONCache.listCount == 2 * h.state.frameworks.count, "tasks and unreachable_tasks of each")
        // A change that touches no task (an agent's pong) keeps the tasks' version, and the arrays are reused
        let version = h.state.tasksVersion
        let agent = try #require(h.state.agents.keys.first)
        try h.state.agentPong(agent)
        #expect(h.state.tasksVersion == version)
        let again = MasterStateView(state: h.state, master: master)
        #expect(try again.encodeState() == first)
        #expect(try again.encodeState() == (try MasterStateView.foundationEncode(again.stateDocument())))
        // Two copies of one state, each changed in its own way, get different versions and their own documents
        let running = h.state.tasks.filter { $0.value.state == .running }.sorted { $0.key.taskID < $1.key.taskID }
        try #require(running.count >= 2)
        var killedFirst = h.state
        var killedSecond = h.state
        func kill(_ task: Dictionary<TaskKey, MasterState.TaskRecord>.Element, in state: inout MasterState) throws {
            let update = AgentCall.Update(
                frameworkId: task.key.frameworkID,
                status: TaskStatus(taskId: task.key.taskID, state: .killed, timestamp: 1_763_767_400.5)
            )
            _ = try state.agentUpdate(update, from: task.value.agentID, now: h.now)
        }
        try kill(running[0], in: &killedFirst)
        try kill(running[1], in: &killedSecond)
        #expect(killedFirst.tasksVersion != killedSecond.tasksVersion)
        #expect(killedFirst.tasksVersion != version && killedSecond.tasksVersion != version)
        for state in [killedFirst, killedSecond, h.state] {
            let view = MasterStateView(state: state, master: master)
            #expect(try view.encodeState() == (try MasterStateView.foundationEncode(view.stateDocument())))
        }
    }

    static func foundationTasks(_ state: MasterState, master: Master) throws -> Data {
        struct Tasks: Encodable { var tasks: MasterStateView.TaskListJSON }
        let view = MasterStateView(state: state, master: master)
        let indices = state.tasks.indices.sorted { state.tasks.keys[$0].taskID < state.tasks.keys[$1].taskID }
        return try MasterStateView.foundationEncode(Tasks(tasks: .init(view: view, indices: indices, role: nil)))
    }

    @Test func flatResourcesSumScalarsAndSpellRangesAndSets() throws {
        var resources = Fixture.resources(cpus: 2, memMB: 1024)
        try resources.add(.scalar("cpus", 1.5, role: "web"))
        try resources.add(Resource(name: "zones", value: .set(["b", "a"]), role: "*"))
        let flat = MasterStateView.flat(resources)
        let json = try MasterStateView.foundationEncode(flat)
        #expect(
            String(decoding: json, as: UTF8.self)
                == #"{"cpus":3.5,"disk":10240,"gpus":0,"mem":1024,"ports":"[31000-32000]","zones":"{a,b}"}"#
        )
    }

    static func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func master(
        _ configuration: MasterConfiguration = MasterConfiguration(),
        leadership: MasterLeadership? = nil
    ) -> Master {
        Master(
            configuration: configuration,
            masterID: "m",
            logger: Logger(label: "test"),
            uptime: { .seconds(5) },
            wallTime: { 1_763_767_000.5 },
            leadership: leadership
        )
    }

    @Test func electedTimeIsWhenThisMasterWasElectedAndAbsentBefore() throws {
        let h = MasterHarness()
        let leadership = MasterLeadership.contending()
        let master = Self.master(leadership: leadership)
        let following = try Self.object(MasterStateView(state: h.state, master: master).encodeState())
        #expect(following["elected_time"] == nil)
        #expect(following["start_time"] as? Double == 1_763_767_000.5)

        leadership.elected(now: 1_763_767_042.25)
        let view = MasterStateView(state: h.state, master: master)
        let elected = try Self.object(view.encodeState())
        #expect(elected["elected_time"] as? Double == 1_763_767_042.25)
        #expect(elected["start_time"] as? Double == 1_763_767_000.5)
        let foundation = try MasterStateView.foundationEncode(view.stateDocument())
        #expect(String(decoding: try view.encodeState(), as: UTF8.self) == String(decoding: foundation, as: UTF8.self))

        // A single master (no --zk) is elected when it starts.
        let standalone = try Self.object(MasterStateView(state: h.state, master: Self.master()).encodeState())
        #expect(standalone["elected_time"] as? Double == 1_763_767_000.5)
    }

    @Test func recoveredSlavesAreTheRegistryAgentsThatHaveNotReregistered() throws {
        var h = MasterHarness()
        func entry(_ id: AgentID, _ state: AgentRegistryEntry.State) -> AgentRegistryEntry {
            var info = Fixture.agentSubscribe(hostname: "host-\(id.value)", id: id).agentInfo
            info.attributes = [
                Attribute(name: "rack", value: .text("r1")), Attribute(name: "slots", value: .scalar(Scalar(4))),
            ]
            return AgentRegistryEntry(agentInfo: info, state: state)
        }
        h.state.recover([entry("a", .admitted), entry("b", .admitted), entry("u", .unreachable)], now: h.now)
        let master = Self.master()

        var view = MasterStateView(state: h.state, master: master)
        let state = try Self.object(view.encodeState())
        let recovered = try #require(state["recovered_slaves"] as? [[String: Any]])
        #expect(recovered.map { $0["id"] as? String } == ["a", "b"])
        #expect(recovered.first?["hostname"] as? String == "host-a")
        #expect(recovered.first?["port"] as? Int == 5051)
        let attributes = try #require(recovered.first?["attributes"] as? [String: Any])
        #expect(attributes["rack"] as? String == "r1")
        #expect(attributes["slots"] as? Double == 4)
        let foundation = try MasterStateView.foundationEncode(view.stateDocument())
        #expect(String(decoding: try view.encodeState(), as: UTF8.self) == String(decoding: foundation, as: UTF8.self))
        // The operator API lists the same agents.
        let operatorAgents = OperatorAPI.agents(h.state, startTime: master.startTime).recoveredAgents
        #expect(operatorAgents.compactMap(\.id?.value) == ["a", "b"])

        _ = try h.state.subscribeAgent(
            Fixture.agentSubscribe(hostname: "host-a", id: "a"),
            connection: 1,
            pingInterval: .seconds(15),
            masterInfo: nil,
            now: h.now
        )
        view = MasterStateView(state: h.state, master: master)
        let after = try Self.object(view.encodeState())
        #expect((after["recovered_slaves"] as? [[String: Any]])?.map { $0["id"] as? String } == ["b"])
        #expect((after["slaves"] as? [[String: Any]])?.map { $0["id"] as? String } == ["a"])
        let agents = try Self.object(view.encodeAgents())
        #expect((agents["recovered_slaves"] as? [[String: Any]])?.map { $0["id"] as? String } == ["b"])
    }

    @Test func flagsShowTheHighAvailabilitySettings() throws {
        var configuration = MasterConfiguration()
        configuration.zkSessionTimeout = .seconds(2)
        configuration.agentReregisterTimeout = .seconds(90)
        configuration.recoveryAgentRemovalLimit = 0.125
        // The state's configuration is the one shown (the master's is the same in a running master).
        let view = MasterStateView(
            state: MasterHarness(configuration: configuration).state,
            master: Self.master(configuration)
        )
        let flags = try #require(try Self.object(view.encodeFlags())["flags"] as? [String: String])
        #expect(flags["zk_session_timeout"] == MesosDuration.format(.seconds(2)))
        #expect(flags["agent_reregister_timeout"] == MesosDuration.format(.seconds(90)))
        #expect(flags["recovery_agent_removal_limit"] == "12.5%")
        let defaults = try #require(
            try Self.object(MasterStateView(state: MasterHarness().state, master: Self.master()).encodeFlags())["flags"]
                as? [String: String]
        )
        #expect(defaults["zk_session_timeout"] == "10secs")
        #expect(defaults["agent_reregister_timeout"] == "10mins")
        #expect(defaults["recovery_agent_removal_limit"] == "100%")
        let state = try Self.object(view.encodeState())
        #expect((state["flags"] as? [String: String])?["recovery_agent_removal_limit"] == "12.5%")
    }
}
