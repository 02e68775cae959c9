// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

@testable import RegattaAgent

/// ``DockerContainerRuntime`` against the real Docker Engine and the local busybox image.
///
/// Runs with `REGATTA_TEST_DOCKER=1` (see `scripts/services.sh`). Every test uses an agent id of its own and
/// force-removes its containers afterwards.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["REGATTA_TEST_DOCKER"] == "1"))
struct DockerRuntimeTests {
    /// A web server on port `port` serving `/index.html` with `body`.
    private static func httpd(port: String, body: String) -> CommandInfo {
        .shell("mkdir -p /tmp/www && echo \(body) > /tmp/www/index.html && exec httpd -f -p \(port) -h /tmp/www")
    }

    /// A loop that exits with `code` on SIGTERM, printing `got-term`.
    private static let trapsTerm = CommandInfo.shell(
        "trap 'echo got-term; exit 0' TERM; echo started; while :; do sleep 0.1; done"
    )

    @Test func bridgeContainerAnswersOnItsPublishedLoopbackPort() async throws {
        try await DockerTestSupport.withDocker { docker in
            try await docker.withRuntime { runtime in
                // Given: container port 80 mapped to a host port the agent chose
                let hostPort = try DockerTestSupport.freePort()
                let request = docker.request(
                    "bridge",
                    command: Self.httpd(port: "80", body: "hello-bridge"),
                    network: .bridge,
                    portMappings: [DockerInfo.PortMapping(hostPort: hostPort, containerPort: 80)]
                )
                // When
                _ = try await runtime.launch(request)
                // Then: it answers on 127.0.0.1:<hostPort>
                let answered = await DockerTestSupport.eventually {
                    DockerTestSupport.httpGet(port: hostPort, path: "/index.html")?.contains("hello-bridge") == true
                }
                #expect(answered)
                let details = try await docker.client.inspectContainer(
                    DockerContainerRuntime.containerName(for: request.containerID)
                )
                #expect(details.hostConfig?.networkMode == "bridge")
                let published = details.networkSettings?.ports?["80/tcp"] ?? nil
                #expect(published == [DockerContainerSpec.PortBinding(hostIp: "127.0.0.1", hostPort: "\(hostPort)")])
                // Cleanup through the runtime: SIGKILL at once
                try await runtime.kill(request.containerID, gracePeriod: .zero)
                let termination = try await runtime.wait(for: request.containerID)
                #expect(termination.killed)
            }
        }
    }

    @Test func hostNetworkContainerBindsTheGivenPort() async throws {
        try await DockerTestSupport.withDocker { docker in
            try await docker.withRuntime { runtime in
                // Given
                let port = try DockerTestSupport.freePort()
                let request = docker.request(
                    "host",
                    command: Self.httpd(port: "127.0.0.1:\(port)", body: "hello-host"),
                    network: .host
                )
                // When
                _ = try await runtime.launch(request)
                // Then
                let answered = await DockerTestSupport.eventually {
                    DockerTestSupport.httpGet(port: port, path: "/index.html")?.contains("hello-host") == true
                }
                #expect(answered)
                try await runtime.kill(request.containerID, gracePeriod: .zero)
                _ = try await runtime.wait(for: request.containerID)
            }
        }
    }

    @Test func exitCodePropagatesAndTheContainerIsRemoved() async throws {
        try await DockerTestSupport.withDocker { docker in
            try await docker.withRuntime { runtime in
                // Given
                let request = docker.request("exit", command: .shell("exit 7"))
                // When
                _ = try await runtime.launch(request)
                let termination = try await runtime.wait(for: request.containerID)
                // Then
                #expect(termination == ContainerTermination(status: .exited(code: 7), killed: false))
                #expect(TerminationReport(termination).state == .failed)
                let removed = try await DockerTestSupport.eventually {
                    try await docker.containers().isEmpty
                }
                #expect(removed)
                // And a second wait knows nothing of it
                await #expect(throws: AgentError.self) { _ = try await runtime.wait(for: request.containerID) }
            }
        }
    }

    @Test func killSendsSIGTERMFirst() async throws {
        try await DockerTestSupport.withDocker { docker in
            try await docker.withRuntime { runtime in
                // Given: a task that exits cleanly on SIGTERM
                let request = docker.request("term", command: Self.trapsTerm)
                _ = try await runtime.launch(request)
                let started = await DockerTestSupport.eventually {
                    DockerTestSupport.read("\(request.sandbox)/stdout").contains("started")
                }
                #expect(started)
                // When
                let clock = ContinuousClock()
                let began = clock.now
                try await runtime.kill(request.containerID, gracePeriod: .seconds(10))
                let termination = try await runtime.wait(for: request.containerID)
                // Then: it ended on SIGTERM, well before the grace period
                #expect(termination == ContainerTermination(status: .exited(code: 0), killed: true))
                #expect(clock.now - began < .seconds(8))
                #expect(TerminationReport(termination).state == .killed)
                #expect(DockerTestSupport.read("\(request.sandbox)/stdout").contains("got-term"))
            }
        }
    }

    @Test func killEscalatesToSIGKILLAfterTheGracePeriod() async throws {
        try await DockerTestSupport.withDocker { docker in
            try await docker.withRuntime { runtime in
                // Given: PID 1 without a SIGTERM handler ignores SIGTERM
                let request = docker.request("stubborn", command: .shell("sleep 600"))
                _ = try await runtime.launch(request)
                // When
                let clock = ContinuousClock()
                let began = clock.now
                try await runtime.kill(request.containerID, gracePeriod: .seconds(1))
                let termination = try await runtime.wait(for: request.containerID)
                // Then
                let elapsed = clock.now - began
                #expect(termination == ContainerTermination(status: .exited(code: 137), killed: true))
                #expect(elapsed >= .seconds(1))
                #expect(elapsed < .seconds(15))
            }
        }
    }

    @Test func environmentAndLabelsAreSet() async throws {
        try await DockerTestSupport.withDocker { docker in
            try await docker.withRuntime { runtime in
                // Given
                let command = CommandInfo.shell(
                    "echo \"task=$MESOS_TASK_ID sandbox=$MESOS_SANDBOX greeting=$GREETING host=$HOST\"; "
                        + "echo param=$FROM_PARAM; exec sleep 600",
                    environment: ["GREETING": "hello world"]
                )
                let request = docker.request(
                    "env",
                    command: command,
                    parameters: [.init(key: "env", value: "FROM_PARAM=yes")],
                    labels: Labels(["team": "web"])
                )
                // When
                _ = try await runtime.launch(request)
                // Then: Docker has the variables and labels
                let details = try await docker.client.inspectContainer(
                    DockerContainerRuntime.containerName(for: request.containerID)
                )
                let environment = Set(details.config.env ?? [])
                #expect(environment.contains("GREETING=hello world"))
                #expect(environment.contains("MESOS_TASK_ID=\(request.task.taskId.value)"))
                #expect(environment.contains("MESOS_SANDBOX=/mnt/mesos/sandbox"))
                #expect(environment.contains("HOST=agent.docker.test"))
                let labels = details.config.labels ?? [:]
                #expect(labels["team"] == "web")
                #expect(labels[DockerLabel.taskID] == request.task.taskId.value)
                #expect(labels[DockerLabel.frameworkID] == "docker-test-framework")
                #expect(labels[DockerLabel.agentID] == docker.agentID.value)
                #expect(labels[DockerLabel.containerID] == request.containerID.value)
                let bytes: Int64 = 64 * 1024 * 1024
                #expect(details.hostConfig?.memory == bytes)
                #expect(details.hostConfig?.cpuShares == 102)
                // And the task saw them
                let expected =
                    "task=\(request.task.taskId.value) sandbox=/mnt/mesos/sandbox greeting=hello world "
                    + "host=agent.docker.test\nparam=yes\n"
                let printed = await DockerTestSupport.eventually {
                    DockerTestSupport.read("\(request.sandbox)/stdout") == expected
                }
                #expect(printed, "stdout: \(DockerTestSupport.read("\(request.sandbox)/stdout"))")
                try await runtime.kill(request.containerID, gracePeriod: .zero)
                _ = try await runtime.wait(for: request.containerID)
            }
        }
    }

    @Test func outputReachesTheSandboxFiles() async throws {
        try await DockerTestSupport.withDocker { docker in
            try await docker.withRuntime { runtime in
                // Given
                let request = docker.request(
                    "output",
                    command: .shell(
                        "echo to-stdout; echo to-stderr >&2; echo via-mount > $MESOS_SANDBOX/written; "
                            + "i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done"
                    )
                )
                // When
                _ = try await runtime.launch(request)
                let termination = try await runtime.wait(for: request.containerID)
                // Then: everything is in the files once the exit is reported
                #expect(termination.status == .exited(code: 0))
                let stdout = DockerTestSupport.read("\(request.sandbox)/stdout")
                #expect(stdout.hasPrefix("to-stdout\nline-0\n"))
                #expect(stdout.hasSuffix("line-1999\n"))
                #expect(stdout.split(separator: "\n").count == 2001)
                #expect(DockerTestSupport.read("\(request.sandbox)/stderr") == "to-stderr\n")
                #expect(DockerTestSupport.read("\(request.sandbox)/written") == "via-mount\n")
            }
        }
    }

    @Test func memoryLimitOOMKillIsReported() async throws {
        try await DockerTestSupport.withDocker { docker in
            try await docker.withRuntime { runtime in
                // Given: 16 MB, and a shell that builds a 200 MB string
                let request = docker.request(
                    "oom",
                    command: .shell("x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived"),
                    resources: "cpus:0.1;mem:16"
                )
                // When
                _ = try await runtime.launch(request)
                let exit = try await runtime.waitForExit(request.containerID)
                // Then
                #expect(exit.oomKilled)
                #expect(!exit.termination.killed)
                #expect(exit.limitationReason == "REASON_CONTAINER_LIMITATION_MEMORY")
                #expect(exit.termination.status != .exited(code: 0))
                #expect(!DockerTestSupport.read("\(request.sandbox)/stdout").contains("survived"))
            }
        }
    }

    @Test func recoverFindsARunningContainerFromAnEarlierRuntime() async throws {
        try await DockerTestSupport.withDocker { docker in
            // Given: a container launched by a runtime that then stopped (the agent went away)
            let request = docker.request("recover", command: Self.trapsTerm)
            try await docker.withRuntime { runtime in
                _ = try await runtime.launch(request)
                let started = await DockerTestSupport.eventually {
                    DockerTestSupport.read("\(request.sandbox)/stdout").contains("started")
                }
                #expect(started)
            }
            // When: a new runtime recovers
            try await docker.withRuntime { runtime in
                let recovered = try await runtime.recover(agentID: docker.agentID)
                // Then
                let container = try #require(recovered.first { $0.containerID == request.containerID })
                #expect(recovered.count == 1)
                #expect(container.taskID == request.task.taskId)
                #expect(container.frameworkID == request.frameworkID)
                #expect(container.agentID == docker.agentID)
                #expect(container.state == "running")
                #expect(container.isRunning)
                #expect(container.sandbox == request.sandbox)
                #expect(container.name == DockerContainerRuntime.containerName(for: request.containerID))
                let others = try await runtime.recover(agentID: AgentID("some-other-agent"))
                #expect(others.isEmpty)
                // And it can be killed and waited for like any other
                try await runtime.kill(request.containerID, gracePeriod: .seconds(10))
                let termination = try await runtime.wait(for: request.containerID)
                #expect(termination == ContainerTermination(status: .exited(code: 0), killed: true))
                // The output kept flowing into the sandbox, without repeating what was already there
                let stdout = DockerTestSupport.read("\(request.sandbox)/stdout")
                #expect(stdout.contains("got-term"))
                // (the copy resumes strictly after the last message copied, recorded in the sandbox)
                #expect(stdout.components(separatedBy: "started").count == 2)
                #expect(stdout.components(separatedBy: "got-term").count == 2)
            }
        }
    }

    @Test func recoverReportsAContainerThatExitedWhileTheAgentWasAway() async throws {
        try await DockerTestSupport.withDocker { docker in
            // Given
            let request = docker.request("gone", command: .shell("read line; exit 5"))
            try await docker.withRuntime { runtime in
                _ = try await runtime.launch(request)
            }
            // The container exits (stdin is closed, so `read` fails at once, but give Docker a moment)
            let exited = try await DockerTestSupport.eventually {
                try await docker.containers().first?.state == "exited"
            }
            #expect(exited)
            // When
            try await docker.withRuntime { runtime in
                let recovered = try await runtime.recover(agentID: docker.agentID)
                // Then
                #expect(recovered.map(\.state) == ["exited"])
                let termination = try await runtime.wait(for: request.containerID)
                #expect(termination == ContainerTermination(status: .exited(code: 5), killed: false))
            }
        }
    }

    @Test func missingImageFailsTheLaunchClearly() async throws {
        try await DockerTestSupport.withDocker { docker in
            try await docker.withRuntime { runtime in
                // Given
                let image = "regatta-test/does-not-exist:latest"
                let request = docker.request("missing", command: .shell("true"), image: image)
                // When
                let error = await #expect(throws: AgentError.self) { _ = try await runtime.launch(request) }
                // Then
                #expect(error?.code == .launchFailed)
                #expect(error?.message.contains("Image '\(image)'") == true)
                #expect(error?.message.contains("could not be pulled") == true)
                let leftovers = try await docker.containers()
                #expect(leftovers.isEmpty)
                await #expect(throws: AgentError.self) { _ = try await runtime.wait(for: request.containerID) }
            }
        }
    }

    @Test func commandDockerCannotStartFailsTheLaunchAndLeavesNothing() async throws {
        try await DockerTestSupport.withDocker { docker in
            try await docker.withRuntime { runtime in
                // Given: an executable the image does not have
                let request = docker.request(
                    "unstartable",
                    command: CommandInfo(shell: false, value: "/no/such/binary")
                )
                // When
                let error = await #expect(throws: AgentError.self) { _ = try await runtime.launch(request) }
                // Then
                #expect(error?.code == .launchFailed)
                #expect(error?.message.contains("/no/such/binary") == true)
                let leftovers = try await docker.containers()
                #expect(leftovers.isEmpty)
            }
        }
    }

    @Test func killDuringLaunchStopsTheContainerOnceStarted() async throws {
        try await DockerTestSupport.withDocker { docker in
            try await docker.withRuntime { runtime in
                // Given
                let request = docker.request("early-kill", command: .shell("sleep 600"))
                // When: the kill arrives while the launch is still under way
                async let launched = runtime.launch(request)
                let killed = await DockerTestSupport.eventually(timeout: .seconds(5)) {
                    (try? await runtime.kill(request.containerID, gracePeriod: .zero)) != nil
                }
                _ = try await launched
                let termination = try await runtime.wait(for: request.containerID)
                // Then
                #expect(killed)
                #expect(termination.killed)
            }
        }
    }

    @Test func createAndStartLatency() async throws {
        try await DockerTestSupport.withDocker { docker in
            try await docker.withRuntime { runtime in
                // Given: the image is present (first launch), then timed launches
                var timings: [Duration] = []
                let clock = ContinuousClock()
                for index in 0..<6 {
                    let request = docker.request("latency-\(index)", command: .shell("exit 0"))
                    let began = clock.now
                    _ = try await runtime.launch(request)
                    if index > 0 { timings.append(clock.now - began) }
                    _ = try await runtime.wait(for: request.containerID)
                }
                // And the same through the bare client, create + start only, in both network modes
                var bare: [String: [Duration]] = [:]
                for network in ["host", "bridge"] {
                    for _ in 0..<5 {
                        var spec = DockerContainerSpec(image: DockerTestSupport.image)
                        spec.cmd = ["/bin/sh", "-c", "exit 0"]
                        spec.labels = [DockerLabel.agentID: docker.agentID.value]
                        spec.hostConfig.networkMode = network
                        let began = clock.now
                        let created = try await docker.client.createContainer(name: nil, spec: spec)
                        try await docker.client.startContainer(created.id)
                        bare[network, default: []].append(clock.now - began)
                        _ = try await docker.client.waitContainer(created.id)
                        try await docker.client.removeContainer(created.id)
                    }
                }
                // Then
                func median(_ values: [Duration]) -> Duration { values.sorted()[values.count / 2] }
                print(
                    "Docker timings (median of 5): launch with HOST networking (image inspect + create + start) "
                        + "\(median(timings)); client create + start, host network \(median(bare["host"] ?? [])), "
                        + "bridge network \(median(bare["bridge"] ?? []))"
                )
                #expect(median(timings) < .seconds(5))
                #expect(median(bare["bridge"] ?? []) < .seconds(5))
            }
        }
    }
}
