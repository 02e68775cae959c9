// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Glibc
import RegattaCore
import Testing

@testable import RegattaAgent

/// The real COMMAND, HTTP and TCP checks against processes and sockets on 127.0.0.1.
@Suite struct HealthCheckProbeTests {
    private let logger = TestSupport.logger()

    /// A listening TCP socket on 127.0.0.1 and its port; closed after `body`.
    private func withListener<T>(_ body: (UInt16) async throws -> T) async throws -> T {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        #expect(listen(fd, 4) == 0)
        return try await body(UInt16(bigEndian: address.sin_port))
    }

    @Test func tcpCheckConnects() async throws {
        let port = try await self.withListener { port in
            #expect(await SystemHealthCheckProbe.tcp(port: port, timeout: .seconds(2)) == .healthy)
            return port
        }
        // Once the listener is closed, the same port refuses
        guard case .unhealthy(let message) = await SystemHealthCheckProbe.tcp(port: port, timeout: .seconds(2)) else {
            Issue.record("a closed port was healthy")
            return
        }
        #expect(message.contains("127.0.0.1:\(port)"))
    }

    @Test func commandCheckUsesExitStatusAndTimeout() async throws {
        try await TestSupport.withTemporaryDirectory { directory in
            let environment = ["PATH": "/usr/bin:/bin", "EXPECTED": "yes"]
            #expect(
                await SystemHealthCheckProbe.command(
                    "test \"$EXPECTED\" = yes && test \"$(pwd)\" = \"$(cd \(directory) && pwd)\"",
                    environment: environment,
                    directory: directory,
                    timeout: .seconds(5)
                ) == .healthy
            )
            #expect(
                await SystemHealthCheckProbe.command(
                    "exit 2",
                    environment: environment,
                    directory: directory,
                    timeout: .seconds(5)
                )
                    == .unhealthy("the check command exited with status 2")
            )
            let started = ContinuousClock.now
            let slow = await SystemHealthCheckProbe.command(
                "sleep 10",
                environment: environment,
                directory: directory,
                timeout: .milliseconds(300)
            )
            #expect(slow == .unhealthy("the check command timed out after 0.3 seconds"))
            #expect(started.duration(to: .now) < .seconds(3))
        }
    }

    @Test func httpCheckAcceptsSuccessOrListedStatuses() async throws {
        // Given an HTTP server (the fake master answers 404 on GET /)
        let master = FakeMaster(logger: self.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await master.run() }
            defer { group.cancelAll() }
            let port = UInt32(try await master.waitForPort())
            let probe = SystemHealthCheckProbe(http: HTTPClient.shared)
            let target = HealthCheckTarget(environment: [:], sandbox: "/")
            // When / Then
            let notFound = await probe.run(
                HealthCheck(type: .http, http: .init(port: port, path: "/")),
                target: target,
                timeout: .seconds(5)
            )
            #expect(notFound == .unhealthy("HTTP GET / on port \(port) answered 404"))
            var listed = HealthCheck(type: .http, http: .init(port: port, path: "status"))
            listed.http?.statuses = [404]
            #expect(await probe.run(listed, target: target, timeout: .seconds(5)) == .healthy)
            let https = await probe.run(
                HealthCheck(type: .http, http: .init(scheme: "https", port: port)),
                target: target,
                timeout: .seconds(5)
            )
            #expect(https == .unhealthy("scheme 'https' is not supported by agent health checks; use http"))
        }
    }
}
