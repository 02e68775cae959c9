// SPDX-License-Identifier: Apache-2.0
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Any child process a test starts (java for ZooKeeper, python for pymesos, `regatta` for the HA cluster), with its
/// output in a log file, so the test can kill it with a chosen signal and read its exit status.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    let logURL: URL
    let executable: String
    let arguments: [String]

    /// Starts `executable` with `arguments`, stdout and stderr appended to `log`, `environment` added to ours.
    init(_ executable: String, _ arguments: [String], log: URL, environment: [String: String] = [:]) throws {
        self.executable = executable
        self.arguments = arguments
        self.logURL = log
        if !FileManager.default.fileExists(atPath: log.path) {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        self.process.executableURL = URL(fileURLWithPath: executable)
        self.process.arguments = arguments
        self.process.standardOutput = handle
        self.process.standardError = handle
        self.process.standardInput = FileHandle.nullDevice
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        self.process.environment = env
        try self.process.run()
        try? handle.close()
    }

    var pid: Int32 { self.process.processIdentifier }
    var isRunning: Bool { self.process.isRunning }

    /// The exit status, or nil while the process runs (or when a signal ended it: see ``terminationSignal``).
    var exitCode: Int32? {
        guard !self.process.isRunning, self.process.terminationReason == .exit else { return nil }
        return self.process.terminationStatus
    }

    /// The signal that ended the process, or nil.
    var terminationSignal: Int32? {
        guard !self.process.isRunning, self.process.terminationReason == .uncaughtSignal else { return nil }
        return self.process.terminationStatus
    }

    /// Sends `signal` (SIGKILL by default) and waits up to `timeout` for the process to be gone.
    func kill(_ signal: Int32 = SIGKILL, timeout: Duration = .seconds(10)) async {
        guard self.process.isRunning else { return }
        _ = Glibc.kill(self.pid, signal)
        try? await self.waitForExit(timeout: timeout)
    }

    /// SIGTERM, then SIGKILL after `timeout`.
    func stop(timeout: Duration = .seconds(15)) async {
        guard self.process.isRunning else { return }
        _ = Glibc.kill(self.pid, SIGTERM)
        do {
            try await self.waitForExit(timeout: timeout)
        } catch {
            await self.kill(SIGKILL)
        }
    }

    /// Waits until the process has exited; throws ``ChildProcessError`` after `timeout`.
    func waitForExit(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while self.process.isRunning {
            guard ContinuousClock.now < deadline else {
                throw ChildProcessError(message: "\(self.executable) (pid \(self.pid)) still runs after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The whole log.
    func log() -> String {
        (try? String(contentsOf: self.logURL, encoding: .utf8)) ?? ""
    }

    /// The last `lines` lines of the log, for failure messages.
    func logTail(_ lines: Int = 40) -> String {
        self.log().split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// A child process did not do what the test waited for.
struct ChildProcessError: Error, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}
