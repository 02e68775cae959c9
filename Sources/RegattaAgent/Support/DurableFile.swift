// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc

/// Small synchronous file writes that survive a crash: atomic replacement and fsync'd appends.
enum DurableFile {
    /// Replaces `path` with `data` atomically: writes a temporary file, fsyncs it, renames it over `path` and fsyncs
    /// the directory.
    ///
    /// - Throws: `AgentError.workDirectory` naming the file and the system error.
    static func replace(_ path: String, with data: Data) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.error("create", temporary) }
        do {
            try Self.writeAll(fd, data, path: temporary)
            guard fsync(fd) == 0 else { throw Self.error("fsync", temporary) }
            close(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let failure = Self.error("rename", temporary)
            unlink(temporary)
            throw failure
        }
        Self.syncDirectory(directory)
    }

    /// Appends `data` to `path` (created if missing) and, if `sync` is set, fsyncs it before returning.
    ///
    /// - Throws: `AgentError.workDirectory` naming the file and the system error.
    static func append(_ path: String, _ data: Data, sync: Bool) throws {
        let existed = access(path, F_OK) == 0
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.error("open", path) }
        defer { close(fd) }
        try Self.writeAll(fd, data, path: path)
        if sync {
            guard fsync(fd) == 0 else { throw Self.error("fsync", path) }
            if !existed { Self.syncDirectory((path as NSString).deletingLastPathComponent) }
        }
    }

    /// Creates a directory and its parents, and fsyncs the parent so the new entry is durable.
    static func createDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw AgentError(
                .workDirectory, "Cannot create '\(path)'; check that the work directory is writable.", cause: error)
        }
        Self.syncDirectory((path as NSString).deletingLastPathComponent)
    }

    private static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw Self.error("write", path)
                }
                offset += written
            }
        }
    }

    private static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func error(_ operation: String, _ path: String) -> AgentError {
        AgentError(
            .workDirectory,
            "Cannot \(operation) '\(path)': \(String(cString: strerror(errno))); "
                + "check that the work directory is writable and not full."
        )
    }
}
