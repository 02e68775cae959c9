// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc

/// Where the copy of a Docker container's output into its sandbox got to: the timestamp of the last log message
/// copied whole, kept in the sandbox's ``fileName`` so that the copy resumes strictly after it when the agent
/// recovers the container (Docker's `since` is inclusive; resuming by time alone repeats the messages logged in
/// that instant).
final class DockerLogPosition: Sendable {
    /// The file in the sandbox holding the position.
    static let fileName = ".regatta-docker-logs"

    private let descriptor: Int32
    /// The file's path.
    let path: String

    /// The position recorded in `sandbox`; `nil` when none was, or the file is not a regular file (a task may have
    /// replaced it) or is unreadable.
    static func read(sandbox: String) -> DockerLogTimestamp? {
        guard let descriptor = try? SandboxFile.open(Self.fileName, in: sandbox, flags: O_RDONLY) else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return DockerLogTimestamp(sinceArgument: String(decoding: buffer.prefix(count), as: UTF8.self))
    }

    /// Opens (creating if needed) the position file of `sandbox` for recording, through ``SandboxFile``.
    ///
    /// - Throws: `AgentError.workDirectory` naming the file and the system error, or saying that it is not a
    ///   regular file.
    init(sandbox: String) throws {
        self.descriptor = try SandboxFile.open(Self.fileName, in: sandbox, flags: O_WRONLY | O_CREAT)
        self.path = "\(sandbox)/\(Self.fileName)"
    }

    deinit {
        close(self.descriptor)
    }

    /// Records `timestamp`, overwriting the previous position in place (one fixed-width `pwrite`, no fsync: it
    /// must survive the agent, not the machine, like the output written before it).
    ///
    /// - Throws: `AgentError.workDirectory` when the write fails.
    func record(_ timestamp: DockerLogTimestamp) throws {
        let argument = timestamp.sinceArgument
        let line = String(repeating: " ", count: max(0, 31 - argument.count)) + argument + "\n"
        let written = line.utf8CString.withUnsafeBufferPointer { buffer in
            pwrite(self.descriptor, buffer.baseAddress!, buffer.count - 1, 0)
        }
        guard written == line.utf8.count else {
            throw AgentError(
                .workDirectory,
                "Cannot record how far the container's output was copied in '\(self.path)': "
                    + "\(String(cString: strerror(errno)))."
            )
        }
    }
}
