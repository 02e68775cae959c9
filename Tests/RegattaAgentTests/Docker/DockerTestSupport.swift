// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import Logging
import RegattaCore

@testable import RegattaAgent

/// Helpers for the Docker runtime tests: gating, the local test image, real containers cleaned up after each test.
enum DockerTestSupport {
    /// Whether the real-Docker tests run: `REGATTA_TEST_DOCKER=1`, exported by `scripts/services.sh start`.
    static let enabled = ProcessInfo.processInfo.environment["REGATTA_TEST_DOCKER"] == "1"

    /// The local test image (built by `scripts/services.sh` with `docker import`; never pulled).
    static let image = ProcessInfo.processInfo.environment["REGATTA_TEST_DOCKER_IMAGE"] ?? "regatta-test/busybox:latest"

    /// A logger for tests; `REGATTA_TEST_LOG_LEVEL=debug` shows the runtime's logs.
    static func logger() -> Logger {
        var logger = Logger(label: "regatta.agent.docker.test")
        logger.logLevel =
            ProcessInfo.processInfo.environment["REGATTA_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
            ?? .warning
        return logger
    }

    /// One test's Docker context: a client, an agent id of its own and a temporary directory.
    struct Harness: Sendable {
        let client: DockerEngineClient
        let agentID: AgentID
        let directory: String
        let logger: Logger

        /// A launch request for a Docker task of this test's agent.
        func request(
            _ name: String,
            command: CommandInfo?,
            network: DockerInfo.Network = .host,
            portMappings: [DockerInfo.PortMapping]? = nil,
            resources: String = "cpus:0.1;mem:64",
            parameters: [DockerInfo.Parameter]? = nil,
            labels: Labels? = nil,
            image: String = DockerTestSupport.image
        ) -> ContainerLaunchRequest {
            let container = ContainerInfo(
                type: .docker,
                docker: DockerInfo(image: image, network: network, portMappings: portMappings, parameters: parameters)
            )
            var task = TaskInfo(
                name: name,
                taskId: TaskID("\(name).\(UUID().uuidString.prefix(8))"),
                agentId: self.agentID,
                resources: (try? Resources.parse(resources)) ?? Resources(),
                command: command,
                container: container
            )
            task.labels = labels
            let containerID = ContainerID(UUID().uuidString.lowercased())
            return ContainerLaunchRequest(
                containerID: containerID,
                frameworkID: "docker-test-framework",
                agentID: self.agentID,
                task: task,
                sandbox: "\(self.directory)/\(name)-\(containerID.value)",
                hostname: "agent.docker.test"
            )
        }

        /// Runs `body` with a runtime (on this harness's client) whose `run()` runs alongside.
        func withRuntime<T: Sendable>(
            _ configuration: DockerContainerRuntime.Configuration = DockerContainerRuntime.Configuration(),
            _ body: @Sendable (DockerContainerRuntime) async throws -> T
        ) async throws -> T {
            let runtime = DockerContainerRuntime(configuration: configuration, client: self.client, logger: self.logger)
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await runtime.run()
                    return nil
                }
                defer { group.cancelAll() }
                return try await body(runtime)
            }
        }

        /// Docker's containers labelled with this test's agent id.
        func containers() async throws -> [DockerContainerSummary] {
            try await self.client.listContainers(labels: ["\(DockerLabel.agentID)=\(self.agentID.value)"])
        }
    }

    /// Runs `body` with a fresh ``Harness``, then force-removes every container of its agent id and the directory.
    static func withDocker<T: Sendable>(_ body: @Sendable (Harness) async throws -> T) async throws -> T {
        let logger = Self.logger()
        let client = DockerEngineClient(logger: logger)
        let directory = FileManager.default.temporaryDirectory.path + "/regatta-docker-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let harness = Harness(
            client: client,
            agentID: AgentID("docker-test-\(UUID().uuidString.prefix(8).lowercased())"),
            directory: directory,
            logger: logger
        )
        let result: Result<T, any Error>
        do {
            result = .success(try await body(harness))
        } catch {
            result = .failure(error)
        }
        for container in (try? await harness.containers()) ?? [] {
            try? await client.removeContainer(container.id, force: true)
        }
        try? await client.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
        return try result.get()
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago.
    static func freePort() throws -> UInt32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return UInt32(UInt16(bigEndian: address.sin_port))
    }

    /// The body of `GET path` from `127.0.0.1:port` over plain HTTP/1.0, or `nil` when nothing answers.
    static func httpGet(port: UInt32, path: String) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { return nil }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response.append(contentsOf: buffer[0..<count])
        }
        return response.isEmpty ? nil : String(decoding: response, as: UTF8.self)
    }

    /// Polls `condition` until it holds or `timeout` passes.
    static func eventually(
        timeout: Duration = .seconds(15),
        _ condition: @Sendable () async throws -> Bool
    ) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    /// The text of a sandbox file, or `""` when it does not exist.
    static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}
