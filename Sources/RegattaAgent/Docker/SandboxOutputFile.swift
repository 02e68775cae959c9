// SPDX-License-Identifier: Apache-2.0
import Glibc
import NIOCore

/// A sandbox output file (`stdout` or `stderr`) opened for appending; closed when released.
///
/// Opened through ``SandboxFile`` before the container starts (or on recovery), never by following a symlink.
final class SandboxOutputFile: Sendable {
    private let descriptor: Int32
    /// The file's path.
    let path: String

    /// Opens `name` in `sandbox` for appending, creating it if needed.
    ///
    /// - Throws: `AgentError.workDirectory` naming the file and the system error, or saying that it is not a
    ///   regular file.
    init(name: String, in sandbox: String) throws {
        self.descriptor = try SandboxFile.open(name, in: sandbox, flags: O_WRONLY | O_CREAT | O_APPEND)
        self.path = "\(sandbox)/\(name)"
    }

    deinit {
        close(self.descriptor)
    }

    /// Appends all of `bytes`.
    ///
    /// - Throws: `AgentError.workDirectory` when the write fails (a full disk, for example).
    func write(_ bytes: ByteBuffer) throws {
        try bytes.withUnsafeReadableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(self.descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw AgentError(
                        .workDirectory,
                        "Cannot write the container's output to '\(self.path)': \(String(cString: strerror(errno)))."
                    )
                }
                offset += written
            }
        }
    }
}
