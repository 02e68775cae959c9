// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Paths of the package under test.
enum Package {
    /// The package root, found from this file's path.
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The `regatta` executable built by `swift build` (scripts/test.sh builds it before `swift test`).
    static var regatta: String {
        let candidates = ["debug", "release"].map { root.appendingPathComponent(".build/\($0)/regatta").path }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }
}

/// A free TCP port on 127.0.0.1 (bound to port 0, read back, closed).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

private let nextAgentPortBlock = Atomic<Int>(0)

/// A `ports:[…]` resource of 100 ports no other agent started by this test process offers: agents of every
/// cluster share 127.0.0.1, so two agents offering the same ports would give two tasks the same port, and one task's
/// health check would reach the other. Blocks come from 20000–30999, below the kernel's ephemeral ports (which
/// `freePort()` hands out) and the 31000–31999 of `DevClusterTests`, and are reused only after 110 agents.
func uniqueAgentPorts() -> String {
    let block = nextAgentPortBlock.wrappingAdd(1, ordering: .relaxed).oldValue % 110
    let low = 20_000 + block * 100
    return "ports:[\(low)-\(low + 99)]"
}

/// The range of a one-range `ports:[low-high]` resource.
func portRange(of resource: String) -> ClosedRange<Int>? {
    guard let open = resource.firstIndex(of: "["), let close = resource.firstIndex(of: "]") else { return nil }
    let bounds = resource[resource.index(after: open)..<close].split(separator: "-").compactMap { Int($0) }
    guard bounds.count == 2, bounds[0] <= bounds[1] else { return nil }
    return bounds[0]...bounds[1]
}

/// A `regatta` child process (e.g. `regatta dev`), stopped with SIGTERM (or SIGKILL) by the test.
final class RegattaProcess: @unchecked Sendable {
    let process = Process()
    let logURL: URL

    init(_ arguments: [String], log: URL, environment: [String: String] = [:]) throws {
        self.logURL = log
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        self.process.executableURL = URL(fileURLWithPath: Package.regatta)
        self.process.arguments = arguments
        self.process.standardOutput = handle
        self.process.standardError = handle
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        self.process.environment = env
        try self.process.run()
    }

    var pid: Int32 { self.process.processIdentifier }

    /// Sends SIGTERM and waits (up to `timeout`) for the process to exit.
    func stop(timeout: Duration = .seconds(20)) async {
        guard self.process.isRunning else { return }
        self.process.terminate()
        let deadline = ContinuousClock.now + timeout
        while self.process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        if self.process.isRunning { kill(self.pid, SIGKILL) }
    }

    /// The last lines of the process's log, for failure messages.
    func logTail(_ lines: Int = 40) -> String {
        let text = (try? String(contentsOf: self.logURL, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}

/// A minimal JSON HTTP helper for tests.
struct HTTP {
    static func request(
        _ method: HTTPMethod,
        _ url: String,
        json: Any? = nil,
        body: String? = nil
    ) async throws
        -> (status: Int, json: Any?, text: String, headers: HTTPHeaders)
    {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        } else if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
        let buffer = try await response.body.collect(upTo: 32 << 20)
        let data = Data(buffer.readableBytesView)
        return (
            Int(response.status.code),
            (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) as Any?,
            String(decoding: data, as: UTF8.self), response.headers
        )
    }

    static func get(_ url: String) async throws -> (status: Int, json: Any?, text: String, headers: HTTPHeaders) {
        try await self.request(.GET, url)
    }
}

/// Polls `condition` every 200 ms until it holds or `timeout` passes.
func eventually(
    timeout: Duration = .seconds(30),
    _ what: String,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: .milliseconds(200))
    }
    Issue.record("timed out after \(timeout) waiting for: \(what)")
    throw CancellationError()
}

/// Runs a command and returns its exit status and output.
@discardableResult
func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    let pipe = Pipe()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
