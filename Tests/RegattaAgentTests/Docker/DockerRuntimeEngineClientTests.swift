// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

@testable import RegattaAgent

/// ``DockerEngineClient`` and ``DockerContainerRuntime/probe(socketPath:logger:)`` against the real Docker Engine.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["REGATTA_TEST_DOCKER"] == "1"))
struct DockerRuntimeEngineClientTests {
    @Test func negotiatesTheAPIVersionAndReportsTheEngine() async throws {
        try await DockerTestSupport.withDocker { docker in
            let server = try await docker.client.ping()
            let version = try await docker.client.apiVersion()
            #expect(DockerEngineClient.compare(version, server) <= 0)
            #expect(DockerEngineClient.compare(version, DockerEngineClient.newestAPIVersion) <= 0)
            let engine = try await docker.client.version()
            #expect(engine.apiVersion == server)
            #expect(!engine.version.isEmpty)
        }
    }

    @Test func inspectsLocalImagesAndReportsMissingOnes() async throws {
        try await DockerTestSupport.withDocker { docker in
            let image = try await docker.client.inspectImage(DockerTestSupport.image)
            #expect(image?.id.hasPrefix("sha256:") == true)
            let missing = try await docker.client.inspectImage("regatta-test/does-not-exist:latest")
            #expect(missing == nil)
        }
    }

    @Test func containerCallsOnAnUnknownContainerAreNotFound() async throws {
        try await DockerTestSupport.withDocker { docker in
            let error = await #expect(throws: AgentError.self) {
                _ = try await docker.client.inspectContainer("regatta-no-such-container")
            }
            #expect(error?.code == .containerNotFound)
            #expect(error?.dockerStatusCode == 404)
            #expect(error?.message.contains("No such container") == true)
        }
    }

    @Test func createsStartsAndStreamsLogsWithoutTheRuntime() async throws {
        try await DockerTestSupport.withDocker { docker in
            // Given
            var spec = DockerContainerSpec(image: DockerTestSupport.image)
            spec.cmd = ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"]
            spec.labels = [DockerLabel.agentID: docker.agentID.value]
            // When
            let created = try await docker.client.createContainer(name: nil, spec: spec)
            try await docker.client.startContainer(created.id)
            let result = try await docker.client.waitContainer(created.id)
            var stdout = ""
            var stderr = ""
            try await docker.client.streamLogs(created.id) { stream, payload in
                if stream == .stdout { stdout += String(buffer: payload) } else { stderr += String(buffer: payload) }
            }
            // Then
            #expect(result.statusCode == 3)
            #expect(stdout == "out\n")
            #expect(stderr == "err\n")
            let listed = try await docker.containers()
            #expect(listed.map(\.id) == [created.id])
            try await docker.client.removeContainer(created.id)
            let remaining = try await docker.containers()
            #expect(remaining.isEmpty)
        }
    }

    @Test func probeTellsWhetherDockerIsUsable() async throws {
        let logger = DockerTestSupport.logger()
        #expect(await DockerContainerRuntime.probe(logger: logger))
        #expect(!(await DockerContainerRuntime.probe(socketPath: "/nonexistent/docker.sock", logger: logger)))
        // A path that exists but is not a socket
        #expect(!(await DockerContainerRuntime.probe(socketPath: "/etc/hostname", logger: logger)))
    }

    @Test func aMissingSocketFailsWithARemedy() async throws {
        let client = DockerEngineClient(
            configuration: DockerEngineClient.Configuration(socketPath: "/nonexistent/docker.sock"),
            logger: DockerTestSupport.logger()
        )
        let clock = ContinuousClock()
        let began = clock.now
        let error = await #expect(throws: AgentError.self) { _ = try await client.ping() }
        #expect(clock.now - began < .seconds(3))
        #expect(error?.message.contains("/nonexistent/docker.sock") == true)
        #expect(error?.message.contains("dockerd") == true)
        try await client.shutdown()
    }
}
