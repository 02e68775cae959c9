// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

@testable import RegattaAgent

/// What a real Docker container gets from the agent: no-new-privileges, a pids limit, a reduced capability set,
/// and COMMAND health checks that run inside it.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["REGATTA_TEST_DOCKER"] == "1"))
struct DockerRuntimeHardeningTests {
    @Test func containersAreHardened() async throws {
        try await DockerTestSupport.withDocker { docker in
            try await docker.withRuntime { runtime in
                // Given / When: a plain task
                let request = docker.request(
                    "hardened",
                    command: .shell("grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; exec sleep 600")
                )
                _ = try await runtime.launch(request)
                // Then: Docker has the settings
                let details = try await docker.client.inspectContainer(
                    DockerContainerRuntime.containerName(for: request.containerID)
                )
                let host = try #require(details.hostConfig)
                #expect(host.securityOpt == ["no-new-privileges"])
                #expect(host.pidsLimit == DockerContainerRuntime.Configuration.defaultPidsLimit)
                #expect(host.capDrop == ["ALL"])
                #expect(Set(host.capAdd ?? []) == Set(DockerContainerRuntime.defaultCapabilities))
                // And the kernel applied them: no-new-privileges set, CAP_NET_RAW (bit 13) and CAP_SYS_ADMIN (bit
                // 21) absent from the effective set
                let printed = await DockerTestSupport.eventually {
                    DockerTestSupport.read("\(request.sandbox)/stdout").contains("NoNewPrivs")
                }
                #expect(printed)
                let status = DockerTestSupport.read("\(request.sandbox)/stdout")
                #expect(status.contains("NoNewPrivs:\t1"))
                let effective = status.split(separator: "\n").first { $0.hasPrefix("CapEff:") }
                    .flatMap { UInt64($0.split(separator: "\t").last ?? "", radix: 16) }
                let capabilities = try #require(effective)
                #expect(capabilities & (1 << 13) == 0)
                #expect(capabilities & (1 << 21) == 0)
                #expect(capabilities & (1 << 0) != 0)  // CAP_CHOWN kept
                try await runtime.kill(request.containerID, gracePeriod: .zero)
                _ = try await runtime.wait(for: request.containerID)
            }
        }
    }

    @Test func commandHealthChecksRunInsideTheContainer() async throws {
        try await DockerTestSupport.withDocker { docker in
            try await docker.withRuntime { runtime in
                // Given: a file that exists only inside the container
                let marker = "/tmp/regatta-inside-\(UUID().uuidString)"
                let request = docker.request("health", command: .shell("touch \(marker); exec sleep 600"))
                _ = try await runtime.launch(request)
                let probe = SystemHealthCheckProbe(http: .shared, containers: runtime)
                let target = HealthCheckTarget(
                    environment: [:],
                    sandbox: request.sandbox,
                    container: request.containerID
                )
                let present = HealthCheck(type: .command, command: .shell("test -f \(marker)"))
                let absent = HealthCheck(type: .command, command: .shell("test -f /tmp/not-there"))
                let sleeping = HealthCheck(type: .command, command: .shell("sleep 30"))
                // When: checks look for it
                let found = await DockerTestSupport.eventually {
                    await probe.run(present, target: target, timeout: .seconds(5)) == .healthy
                }
                let missing = await probe.run(absent, target: target, timeout: .seconds(5))
                let slow = await probe.run(sleeping, target: target, timeout: .milliseconds(500))
                // Then: the check saw the container's file system, never the host's
                #expect(found)
                #expect(!FileManager.default.fileExists(atPath: marker))
                #expect(missing == .unhealthy("the check command exited with status 1"))
                #expect(slow == .unhealthy("the check command timed out after 0.5 seconds"))
                try await runtime.kill(request.containerID, gracePeriod: .zero)
                _ = try await runtime.wait(for: request.containerID)
            }
        }
    }
}
