// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP client for raw requests (the daemons run in other processes, so blocking here holds nobody up).
struct RawSocket {
    let fd: Int32

    /// Connects to `127.0.0.1:port`; reads give up after `timeout` seconds.
    init(port: Int, timeout: Int = 30) throws {
        self.fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(self.fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(self.fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    func send(_ text: String) {
        var bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let written = bytes.withUnsafeMutableBytes {
                Glibc.send(self.fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL))
            }
            if written <= 0 { return }
            sent += written
        }
    }

    /// Reads until the peer closes (or the read timeout passes) and returns the text.
    func readUntilClosed() -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(self.fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    func close() { Glibc.close(self.fd) }
}

/// A TCP listener on 127.0.0.1 that completes connections (in the kernel's backlog) and never answers: a store or
/// ZooKeeper that hangs.
struct BlackHole {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        listen(fd, 64)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits (up to `timeout` seconds) until a client connects; the connection is kept open and never answered.
    func waitForClient(timeout: Int32 = 30) -> Int32? {
        var poller = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeout * 1000) == 1 else { return nil }
        let client = accept(self.fd, nil, nil)
        return client >= 0 ? client : nil
    }

    func close() { Glibc.close(self.fd) }
}

@Suite(.serialized) struct ListenerLimitsIntegrationTests {
    /// Every daemon answers an oversized `Content-Length` with 413 before any body byte is sent, in its own error
    /// shape, and cuts a chunked body off with 413; a head over the limit gets 431; then the dev cluster still
    /// answers and stops within a bound on SIGTERM.
    @Test func everyDaemonRefusesOversizedRequestsBeforeReadingThem() async throws {
        let cluster = try await DevCluster.start()
        defer { try? FileManager.default.removeItem(at: cluster.workDir) }
        do {
            for (name, port, path) in [
                ("master", cluster.masterPort, "/api/v1/scheduler"), ("agent", cluster.agentPort, "/state"),
                ("scheduler", cluster.httpPort, "/v2/apps"),
            ] {
                // Given a request announcing 1 GiB of which nothing is sent
                let announced = try RawSocket(port: port)
                announced.send(
                    "POST \(path) HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 1073741824\r\n\r\n"
                )
                // Then the answer comes at once: 413 naming the limit, in the daemon's shape
                let answer = announced.readUntilClosed()
                announced.close()
                #expect(answer.hasPrefix("HTTP/1.1 413"), "\(name): \(answer.prefix(200))")
                #expect(answer.contains("bytes, the largest accepted"), "\(name): \(answer)")
                if name == "scheduler" {
                    #expect(answer.contains("{\"message\":"), "\(name): \(answer)")
                } else {
                    #expect(answer.contains("text/plain"), "\(name): \(answer)")
                }
                // Given a head over the limit
                let header = try RawSocket(port: port)
                header.send(
                    "GET /health HTTP/1.1\r\nHost: test\r\nX-Big: \(String(repeating: "h", count: 100_000))\r\n\r\n"
                )
                let headerAnswer = header.readUntilClosed()
                header.close()
                #expect(headerAnswer.hasPrefix("HTTP/1.1 431"), "\(name): \(headerAnswer.prefix(200))")
            }
            for (name, port, path) in [
                ("master", cluster.masterPort, "/api/v1/scheduler"), ("scheduler", cluster.httpPort, "/v2/apps"),
            ] {
                // Given a chunked body that crosses the limit (32 MiB), then stops
                let chunked = try RawSocket(port: port)
                chunked.send(
                    "POST \(path) HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                )
                let piece = "100000\r\n" + String(repeating: "x", count: 1 << 20) + "\r\n"
                for _ in 0..<32 { chunked.send(piece) }
                // Then it is answered 413
                let answer = chunked.readUntilClosed()
                chunked.close()
                #expect(answer.hasPrefix("HTTP/1.1 413"), "\(name): \(answer.prefix(200))")
            }
            // And every daemon still answers
            #expect(try await HTTP.get("\(cluster.master)/health").status == 200)
            #expect(try await HTTP.get("http://127.0.0.1:\(cluster.agentPort)/health").status == 200)
            #expect(try await HTTP.get("\(cluster.scheduler)/ping").status == 200)
        } catch {
            await cluster.process.stop()
            throw error
        }
        // When the cluster is told to stop
        let start = ContinuousClock.now
        await cluster.process.stop(timeout: .seconds(30))
        // Then it exited within the bound
        #expect(!cluster.process.process.isRunning, "\(cluster.process.logTail())")
        #expect(cluster.process.process.terminationReason == .exit, "killed after 30 s: \(cluster.process.logTail())")
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    /// The reported bug: a scheduler whose PostgreSQL is gone did not exit on SIGTERM.
    @Test func schedulerStopsOnSIGTERMWhenItsStoreNeverAnswers() async throws {
        // Given a scheduler whose PostgreSQL accepts connections and never answers
        let store = try BlackHole()
        defer { store.close() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("regatta-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let scheduler = try RegattaProcess(
            [
                "scheduler", "--master", "127.0.0.1:\(freePort())", "--http_port", "\(freePort())",
                "--store", "postgres://regatta@127.0.0.1:\(store.port)/regatta",
            ],
            log: dir.appendingPathComponent("scheduler.log")
        )
        let client = store.waitForClient()
        defer { if let client { close(client) } }
        #expect(client != nil, "the scheduler never connected to its store: \(scheduler.logTail())")
        // When it is sent SIGTERM
        let start = ContinuousClock.now
        await scheduler.stop(timeout: .seconds(30))
        // Then it exited within the bound (a generous ceiling, not a measure of speed)
        #expect(!scheduler.process.isRunning, "\(scheduler.logTail())")
        #expect(scheduler.process.terminationReason == .exit, "killed after 30 s: \(scheduler.logTail())")
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test func badConnectionCapExitsWithOneLineNamingTheFlag() throws {
        for daemon in [
            ["master"], ["agent", "--master", "127.0.0.1:5050"], ["scheduler", "--master", "127.0.0.1:5050"],
        ] {
            let (status, output) = try run(Package.regatta, daemon + ["--max_connections", "0"])
            #expect(status != 0)
            #expect(output.contains("--max_connections"), "\(daemon[0]): \(output)")
        }
    }
}
