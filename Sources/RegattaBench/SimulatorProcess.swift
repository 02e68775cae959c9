// SPDX-License-Identifier: Apache-2.0
import Foundation

/// A `regatta` child process (`simulate-agents`, or a `master` for the failover scenario), stopped with SIGTERM.
final class SimulatorProcess: @unchecked Sendable {
    // `Process` is not Sendable; it is only touched from `start`, `peakResidentBytes` and `stop`, in order.
    private let process: Process
    let logPath: String

    private init(process: Process, logPath: String) {
        self.process = process
        self.logPath = logPath
    }

    /// Starts `command` followed by `arguments`, with its output in `logPath`.
    ///
    /// - Throws: ``BenchError`` (`setupFailed`) when the command cannot be started.
    static func start(
        command: [String],
        arguments: [String],
        logPath: String,
        what: String = "the simulator"
    ) throws
        -> SimulatorProcess
    {
        guard let executable = command.first else {
            throw BenchError(.setupFailed, "No command to run \(what) with; pass the path of 'regatta'.")
        }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(command.dropFirst()) + arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw BenchError(.setupFailed, "Cannot start \(what) '\(executable)': \(error).")
        }
        return SimulatorProcess(process: process, logPath: logPath)
    }

    var pid: Int32 { self.process.processIdentifier }

    var isRunning: Bool { self.process.isRunning }

    /// Kills the child with SIGKILL at once (a crash) and reaps it.
    func crash() {
        guard self.process.isRunning else { return }
        kill(self.process.processIdentifier, SIGKILL)
        self.process.waitUntilExit()
    }

    /// Stops the child with SIGTERM, then SIGKILL after 10 seconds.
    func stop() async {
        guard self.process.isRunning else { return }
        self.process.terminate()
        let deadline = ContinuousClock.now + .seconds(10)
        while self.process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
    }
}
