// SPDX-License-Identifier: Apache-2.0
import Glibc
import NIOCore

/// A sandbox output file (`stdout` or `stderr`) opened for appending; closed when released.
final class SandboxOutputFile {
    private let descriptor: Int32
    /// The file's path.
    let path: String

    /// Opens `path` for appending, creating it if needed.
    ///
    /// - Throws: `AgentError.workDirectory` naming the file and the system error.
    init(path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw AgentError(
                .workDirectory,
                "Cannot open '\(path)' for the container's output: \(String(cString: strerror(errno))); check "
                    + "that the sandbox exists and is writable.")
        }
        self.descriptor = descriptor
        self.path = path
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
                        "Cannot write the container's output to '\(self.path)': \(String(cString: strerror(errno))).")
                }
                offset += written
            }
        }
    }
}
