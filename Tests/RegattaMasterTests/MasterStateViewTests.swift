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
                hostname: "agent-\(index)\"\\/\n", port: 5051, resources: resources,
                attributes: [
                    Attribute(name: "rack", value: .text("r\(index)")), Attribute(name: "rack_id", value: .scalar(Scalar(1.5))),
                    Attribute(name: "rackA", value: .text("x")), Attribute(name: "Zone", value: .text("é")),
                ])
            _ = h.state.subscribeAgent(
                AgentCall.Subscribe(agentInfo: info, tasks: []), connection: index + 1, pingInterval: .seconds(15),
                masterInfo: nil, now: h.now)
        }
        let (web, _) = try h.subscribe(Fixture.framework(name: "web", role: "web"))
        let (batch, _) = try h.subscribe(Fixture.framework(name: "batch"))
        var taskNumber = 0
        for case .frameworkEvent(let framework, let event) in h.state.allocate(now: h.now) {
            for (index, offer) in (event.offers?.offers ?? []).enumerated() where index < 2 {
                taskNumber += 1
                var task = Fixture.task("t\(taskNumber)", agent: offer.agentId, cpus: 0.25, memMB: 64)
                if taskNumber == 1 { task.labels = Labels([.init(key: "tier", value: "front/end"), .init(key: "x", value: nil)]) }
                _ = try h.accept(offer, tasks: [task], refuse: 0, from: framework)
                _ = try h.state.agentUpdate(
                    .init(frameworkId: framework, status: TaskStatus(
                        taskId: task.taskId, state: .running, timestamp: 1_763_767_200.125, healthy: taskNumber.isMultiple(of: 2))),
                    from: offer.agentId)
                if taskNumber == 3 {
                    _ = try h.state.agentUpdate(
                        .init(frameworkId: framework, status: TaskStatus(taskId: task.taskId, state: .finished)),
                        from: offer.agentId)
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
            configuration: configuration, masterID: "m", logger: Logger(label: "test"), uptime: { .seconds(5) },
            wallTime: { 1_763_767_000.5 })
        let view = MasterStateView(state: h.state, master: master)
        let fast = try view.encodeState()
        let foundation = try MasterStateView.foundationEncode(view.stateDocument())
        #expect(String(decoding: fast, as: UTF8.self) == String(decoding: foundation, as: UTF8.self))
        #expect(!h.state.tasks.isEmpty && !h.state.offers.isEmpty)
    }

    @Test func flatResourcesSumScalarsAndSpellRangesAndSets() throws {
        var resources = Fixture.resources(cpus: 2, memMB: 1024)
        try resources.add(.scalar("cpus", 1.5, role: "web"))
        try resources.add(Resource(name: "zones", value: .set(["b", "a"]), role: "*"))
        let flat = MasterStateView.flat(resources)
        let json = try MasterStateView.foundationEncode(flat)
        #expect(
            String(decoding: json, as: UTF8.self)
                == #"{"cpus":3.5,"disk":10240,"gpus":0,"mem":1024,"ports":"[31000-32000]","zones":"{a,b}"}"#)
    }
}
