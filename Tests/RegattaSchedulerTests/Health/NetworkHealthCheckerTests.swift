// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import Hummingbird
import Logging
import RegattaCore
import RegattaScheduler
import ServiceLifecycle
import Testing

/// A real HTTP server on 127.0.0.1 (a free port) with the answers health checks need.
enum HealthTestServer {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Runs `body` with the port of a started server, then shuts the server down.
    static func with(_ body: (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("ok") { _, _ in HTTPResponse.Status.ok }
        router.get("created") { _, _ in HTTPResponse.Status.created }
        router.get("redirect") { _, _ in Response(status: .found, headers: [.location: "/elsewhere"]) }
        router.get("error") { _, _ in HTTPResponse.Status.internalServerError }
        router.get("big") { _, _ in String(repeating: "x", count: 1_000_000) }
        router.get("slow") { _, _ in
            try await Task.sleep(for: .seconds(1))
            return HTTPResponse.Status.ok
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: Self.logger
        )
        let group = ServiceGroup(services: [app], logger: Self.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            do {
                try await body(port)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

/// A python3 server for what Hummingbird cannot easily play: HTTPS with a self-signed certificate, a server
/// that answers only `102 Processing`, and plain HTTP out of this process (to measure the checker's own CPU).
final class PythonTestServer: Sendable {
    static let script = #"""
        import http.server, socket, ssl, subprocess, sys, threading
        mode, directory = sys.argv[1], sys.argv[2]
        def ready(port):
            with open(directory + "/port.tmp", "w") as f:
                f.write(str(port))
            import os
            os.rename(directory + "/port.tmp", directory + "/port")
        if mode in ("https", "http"):
            if mode == "https":
                subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                                directory + "/key.pem", "-out", directory + "/cert.pem", "-days", "1",
                                "-subj", "/CN=regatta-test"], check=True, capture_output=True)
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(200 if self.path == "/ok" else 404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                def log_message(self, *args):
                    pass
            http.server.ThreadingHTTPServer.request_queue_size = 256
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            if mode == "https":
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(directory + "/cert.pem", directory + "/key.pem")
                server.socket = context.wrap_socket(server.socket, server_side=True)
            ready(server.server_address[1])
            server.serve_forever()
        else:
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(16)
            ready(listener.getsockname()[1])
            def answer(connection):
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 102 Processing\r\n\r\n")
                connection.recv(1)
                connection.close()
            while True:
                connection, _ = listener.accept()
                threading.Thread(target=answer, args=(connection,), daemon=True).start()
        """#

    let process: Process
    let port: Int
    private let directory: URL

    private init(process: Process, port: Int, directory: URL) {
        self.process = process
        self.port = port
        self.directory = directory
    }

    /// Runs `body` with a started server in `mode` (`https`, `http` or `informational`), then stops it.
    static func with(_ mode: String, _ body: (Int) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("regatta-health-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("server.py")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, mode, directory.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer {
            // SIGKILL: the test process ignores SIGTERM (ServiceLifecycle's signal handling), and so does the child.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let portFile = directory.appendingPathComponent("port")
        let deadline = ContinuousClock.now + .seconds(20)
        var port: Int?
        while port == nil && ContinuousClock.now < deadline && process.isRunning {
            port = (try? String(contentsOf: portFile, encoding: .utf8)).flatMap { Int($0) }
            if port == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        try await body(try #require(port, "the python3 \(mode) server did not start"))
    }
}

@Suite(.serialized) struct NetworkHealthCheckerTests {
    typealias F = HealthFixture

    static func withChecker(
        assumeLocalAgents: Bool = true,
        _ body: (NetworkHealthChecker) async throws -> Void
    ) async throws {
        var configuration = NetworkHealthChecker.Configuration()
        configuration.assumeLocalAgents = assumeLocalAgents
        try await body(NetworkHealthChecker(configuration: configuration, logger: HealthTestServer.logger))
    }

    static func http(
        _ port: Int,
        path: String,
        protocol: String = "HTTP",
        timeout: Double = 2,
        host: String = "agent-0",
        ignoreHttp1xx: Bool = false
    ) -> HealthCheckTarget {
        var check = F.check(timeout: timeout, protocol: `protocol`, path: path)
        check.ignoreHttp1xx = ignoreHttp1xx
        return F.target(check: check, host: host, ports: [port])
    }

    /// A port nothing listens on: bound, then closed.
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    // MARK: - HTTP

    @Test func httpPassesOn2xxAnd3xx() async throws {
        try await HealthTestServer.with { port in
            try await Self.withChecker { checker in
                #expect(await checker.run(Self.http(port, path: "/ok")) == .healthy)
                #expect(await checker.run(Self.http(port, path: "/created")) == .healthy)
                #expect(await checker.run(Self.http(port, path: "/redirect")) == .healthy)
                #expect(await checker.run(Self.http(port, path: "/big")) == .healthy)
                // Connections are reused after a large body
                #expect(await checker.run(Self.http(port, path: "/ok")) == .healthy)
            }
        }
    }

    @Test func httpFailsOn4xxAnd5xxWithTheStatusInTheCause() async throws {
        try await HealthTestServer.with { port in
            try await Self.withChecker { checker in
                #expect(
                    await checker.run(Self.http(port, path: "/missing"))
                        == .unhealthy("HTTP GET /missing on port \(port) answered 404 Not Found")
                )
                #expect(
                    await checker.run(Self.http(port, path: "/error"))
                        == .unhealthy("HTTP GET /error on port \(port) answered 500 Internal Server Error")
                )
            }
        }
    }

    @Test func httpTimesOutAfterTimeoutSeconds() async throws {
        try await HealthTestServer.with { port in
            try await Self.withChecker { checker in
                let started = ContinuousClock.now
                let outcome = await checker.run(Self.http(port, path: "/slow", timeout: 0.3))
                #expect(outcome == .unhealthy("HTTP GET /slow on port \(port) timed out after 0.3s"))
                #expect(ContinuousClock.now - started < .seconds(2))
            }
        }
    }

    @Test func httpToAClosedPortFailsWithConnectionRefused() async throws {
        let port = try Self.closedPort()
        try await Self.withChecker { checker in
            #expect(
                await checker.run(Self.http(port, path: "/"))
                    == .unhealthy("HTTP GET / on port \(port) failed: connection refused")
            )
        }
    }

    @Test func httpsDoesNotVerifyTheCertificate() async throws {
        try await PythonTestServer.with("https") { port in
            try await Self.withChecker { checker in
                #expect(await checker.run(Self.http(port, path: "/ok", protocol: "HTTPS")) == .healthy)
                #expect(
                    await checker.run(Self.http(port, path: "/nope", protocol: "HTTPS"))
                        == .unhealthy("HTTPS GET /nope on port \(port) answered 404 Not Found")
                )
            }
        }
    }

    @Test func anInformationalAnswerIsIgnoredOnlyWithIgnoreHttp1xx() async throws {
        try await PythonTestServer.with("informational") { port in
            try await Self.withChecker { checker in
                let ignored = await checker.run(Self.http(port, path: "/", timeout: 1, ignoreHttp1xx: true))
                let failed = await checker.run(Self.http(port, path: "/", timeout: 1, ignoreHttp1xx: false))
                #expect(ignored == .ignored)
                #expect(failed == .unhealthy("HTTP GET / on port \(port) answered 102 Processing"))
            }
        }
    }

    // MARK: - TCP

    @Test func tcpPassesWhenSomethingListensAndFailsOnAClosedPort() async throws {
        let closed = try Self.closedPort()
        try await HealthTestServer.with { port in
            try await Self.withChecker { checker in
                #expect(await checker.run(F.target(check: F.check(protocol: "TCP"), ports: [port])) == .healthy)
                #expect(
                    await checker.run(F.target(check: F.check(protocol: "TCP"), ports: [closed]))
                        == .unhealthy("TCP connect to 127.0.0.1:\(closed) failed: connection refused")
                )
            }
        }
    }

    @Test func aMissingPortIsAFailureThatSaysWhy() async throws {
        try await Self.withChecker { checker in
            var check = F.check(protocol: "TCP")
            check.portIndex = 2
            #expect(
                await checker.run(F.target(check: check, ports: [31000]))
                    == .unhealthy("the health check's portIndex 2 does not name one of the instance's 1 ports")
            )
        }
    }

    // MARK: - Checks the agent runs

    @Test func commandAndMesosChecksAreLeftToTheAgent() async throws {
        try await Self.withChecker { checker in
            // Given checks that Marathon runs on the agent
            var command = AppHealthCheck(protocol: "COMMAND", path: nil, portIndex: nil)
            command.command = try JSONDecoder().decode(
                AppHealthCheck.Command.self,
                from: Data(#"{"value":"false"}"#.utf8)
            )
            let mesosTCP = AppHealthCheck(protocol: "MESOS_TCP", path: nil, portIndex: 0)
            // When the scheduler's checker is given them
            // Then it runs nothing and reports neither health nor failure
            #expect(await checker.run(F.target(check: command, ports: [31000])) == .skipped)
            #expect(await checker.run(F.target(check: mesosTCP, ports: [31000])) == .skipped)
        }
    }

    // MARK: - Addresses

    @Test func anUnresolvableAgentIsThisMachineOnlyWhenAssumed() async throws {
        try await HealthTestServer.with { port in
            let target = Self.http(port, path: "/ok", host: "no-such-agent.invalid")
            try await Self.withChecker(assumeLocalAgents: true) { checker in
                #expect(await checker.run(target) == .healthy)
            }
            try await Self.withChecker(assumeLocalAgents: false) { checker in
                let outcome = await checker.run(target)
                switch outcome {
                case .unhealthy(let cause): #expect(cause.hasPrefix("cannot resolve 'no-such-agent.invalid'"))
                case .skipped: break  // the resolver itself was unavailable on this machine
                default: Issue.record("expected a failure to resolve, got \(outcome)")
                }
            }
        }
    }

    @Test func thisMachinesHostnameIsCheckedOnLoopback() async throws {
        var buffer = [CChar](repeating: 0, count: 256)
        try #require(gethostname(&buffer, 255) == 0)
        let hostname = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        try await HealthTestServer.with { port in
            try await Self.withChecker(assumeLocalAgents: false) { checker in
                #expect(await checker.run(Self.http(port, path: "/ok", host: hostname)) == .healthy)
                #expect(await checker.run(Self.http(port, path: "/ok", host: "localhost")) == .healthy)
            }
        }
    }

    // MARK: - Overhead

    /// Measures check throughput and CPU per check (client and the in-process server together) against a local
    /// server; run with `REGATTA_HEALTH_BENCH=1`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["REGATTA_HEALTH_BENCH"] == "1"))
    func checkThroughput() async throws {
        // The server runs in another process, so this process's CPU time is the checker's alone.
        let count = 3_000
        let concurrency = 64
        try await PythonTestServer.with("http") { port in
            try await Self.withChecker { checker in
                for (kind, target) in [
                    ("HTTP", Self.http(port, path: "/ok")),
                    ("TCP", F.target(check: F.check(protocol: "TCP"), ports: [port])),
                ] {
                    let cpuBefore = Self.cpuSeconds()
                    let started = ContinuousClock.now
                    let healthy = await withTaskGroup(of: Bool.self) { group in
                        var started = 0
                        var healthy = 0
                        for _ in 0..<concurrency {
                            group.addTask { await checker.run(target) == .healthy }
                            started += 1
                        }
                        while let result = await group.next() {
                            if result { healthy += 1 }
                            if started < count {
                                group.addTask { await checker.run(target) == .healthy }
                                started += 1
                            }
                        }
                        return healthy
                    }
                    let elapsed = ContinuousClock.now - started
                    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                    let cpu = Self.cpuSeconds() - cpuBefore
                    print(
                        "\(kind) health checks: \(count) in \(elapsed) (\(Int(Double(count) / seconds))/s against "
                            + "a python3 server), checker CPU \(Int(cpu / Double(count) * 1e6)) µs per check"
                    )
                    #expect(healthy == count)
                }
            }
        }
        // The service loop's own cost per check (tracker, scheduling, host calls) with a checker that does nothing.
        let host = FakeHealthHost()
        let targets = (0..<5_000).map { F.target("i\($0)", check: F.check(interval: 1, grace: 0)) }
        host.setTargets(targets)
        let checker = FakeHealthChecker { _ in .healthy }
        let cpuBefore = Self.cpuSeconds()
        try await HealthCheckServiceTests.withService(
            host: host,
            checker: checker,
            configuration: HealthCheckService.Configuration()
        ) {
            try await Task.sleep(for: .seconds(5))
        }
        let cpu = Self.cpuSeconds() - cpuBefore
        print(
            "Service loop: \(checker.totalRuns) checks of 5,000 targets (interval 1s) in 5s, "
                + "\(Int(cpu / Double(max(checker.totalRuns, 1)) * 1e6)) µs CPU per check"
        )
        #expect(checker.totalRuns >= 15_000)
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
