// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

@testable import RegattaAgent

@Suite struct AgentMetaStoreTests {
    @Test func savesAndLoadsAgentIdentity() async throws {
        try await TestSupport.withTemporaryDirectory { directory in
            // Given
            let store = AgentMetaStore(path: SandboxLayout(workDir: directory).agentMetaFile)
            let info = AgentInfo(
                hostname: "h1",
                port: 5051,
                resources: try Resources.parse("cpus:2;mem:512"),
                attributes: [Attribute(name: "rack", value: .text("a"))],
                id: "agent-7"
            )
            #expect(try store.load() == nil)
            // When
            try store.save(AgentMetaStore.Meta(agentId: "agent-7", agentInfo: info))
            // Then
            #expect(try store.load() == AgentMetaStore.Meta(agentId: "agent-7", agentInfo: info))
            let text = try String(contentsOfFile: directory + "/meta/agent.json", encoding: .utf8)
            #expect(text.contains(#""agent_id":{"value":"agent-7"}"#))
        }
    }

    @Test func corruptFileNamesTheRemedy() async throws {
        try await TestSupport.withTemporaryDirectory { directory in
            let path = directory + "/agent.json"
            try Data("{not json".utf8).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: AgentError.self) { try AgentMetaStore(path: path).load() }
            #expect(error?.code == .invalidMetadata)
            #expect(error?.message.contains("delete the file") == true)
        }
    }
}
