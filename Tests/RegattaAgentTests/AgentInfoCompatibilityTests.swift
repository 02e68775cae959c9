// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import Testing

@testable import RegattaAgent

@Suite struct AgentInfoCompatibilityTests {
    private func info(
        _ resources: String,
        _ attributes: String = "rack:a",
        hostname: String = "node-1"
    ) throws
        -> AgentInfo
    {
        AgentInfo(
            hostname: hostname,
            port: 5051,
            resources: try Resources.parse(resources),
            attributes: try Attribute.parseList(attributes)
        )
    }

    @Test func sameOrGrownSettingsAreCompatible() throws {
        let saved = try self.info("cpus:2;mem:1024;ports:[31000-31010]")
        #expect(AgentInfoCompatibility.problems(saved: saved, current: saved).isEmpty)
        let grown = try self.info("cpus:4;mem:2048;ports:[31000-32000];gpus:1", "rack:a;zone:2")
        #expect(AgentInfoCompatibility.problems(saved: saved, current: grown).isEmpty)
        var otherPort = saved
        otherPort.port = 6000
        #expect(AgentInfoCompatibility.problems(saved: saved, current: otherPort).isEmpty)
    }

    @Test func shrinkingResourcesIsRefused() throws {
        let saved = try self.info("cpus:2;mem:1024;ports:[31000-31010]")
        let problems = AgentInfoCompatibility.problems(
            saved: saved,
            current: try self.info("cpus:2;mem:512;ports:[31005-31010]")
        )
        #expect(problems.count == 2)
        #expect(problems.contains { $0.contains("'mem'") && $0.contains("1024") && $0.contains("512") })
        #expect(problems.contains { $0.contains("'ports'") })
        let removed = AgentInfoCompatibility.problems(saved: saved, current: try self.info("cpus:2;mem:1024"))
        #expect(removed == ["resource 'ports' shrank from 'ports:[31000-31010]' to nothing"])
    }

    @Test func changedOrRemovedAttributesAndHostnameAreRefused() throws {
        let saved = try self.info("cpus:1", "rack:a;zone:1")
        #expect(
            AgentInfoCompatibility.problems(saved: saved, current: try self.info("cpus:1", "rack:b;zone:1"))
                == ["attribute 'rack' changed from 'a' to 'b'"]
        )
        #expect(
            AgentInfoCompatibility.problems(saved: saved, current: try self.info("cpus:1", "rack:a"))
                == ["attribute 'zone' was removed"]
        )
        #expect(
            AgentInfoCompatibility.problems(
                saved: saved,
                current: try self.info("cpus:1", "rack:a;zone:1", hostname: "node-2")
            )
                == ["the hostname changed from 'node-1' to 'node-2'"]
        )
    }
}
