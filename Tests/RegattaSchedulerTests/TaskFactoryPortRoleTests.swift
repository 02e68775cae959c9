// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaScheduler

@Suite struct TaskFactoryPortRoleTests {
    @Test func portsSpanningAReservedAndTheUnreservedRangeAreTakenFromEach() throws {
        // Given an offer whose ports 31000-31000 are reserved for 'web' and 32000-32010 are unreserved
        // (Fuzz/Crashes/app/ports-split-reservation.json)
        var resources = Resources()
        try resources.add(.scalar("cpus", 4))
        try resources.add(.scalar("mem", 1024))
        try resources.add(Resource(name: "ports", value: .ranges(RangeSet(values: [31000])), role: "web"))
        try resources.add(Resource(name: "ports", value: .ranges(RangeSet(values: Array(32000...32010))), role: "*"))
        let offer = Fixture.offer(ports: nil)
        // When a task takes one port from each
        let task = TaskFactory.makeTask(
            app: Fixture.app(ports: 2),
            taskID: "t1",
            offer: offer,
            hostPorts: [31000, 32000],
            role: "web",
            resources: resources
        )
        // Then each port is asked from the role that holds it, so the task fits the offer
        let ports = task.resources.list.filter { $0.name == "ports" }
        #expect(Set(ports.map(\.role)) == ["web", "*"])
        #expect(resources.contains(task.resources))
    }
}
