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
        try Self.replace(path, with: data, sync: true)
    }

    /// Replaces `path` with `data` atomically (a temporary file renamed over it); with `sync`, the temporary file
    /// is fsync'd before the rename and the directory after it. Without, the caller makes the file and its
    /// directory durable later (see ``CheckpointSyncer``): the replacement is atomic for the processes reading it,
    /// and on a crash of the machine the file system orders the new content before the rename (ext4's
    /// `auto_da_alloc`, as XFS and btrfs do for a rename over an existing file).
    ///
    /// - Throws: `AgentError.workDirectory` naming the file and the system error.
    static func replace(_ path: String, with data: Data, sync: Bool) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.error("create", temporary) }
        do {
            try Self.writeAll(fd, data, path: temporary)
            if sync {
                guard fsync(fd) == 0 else { throw Self.error("fsync", temporary) }
            }
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
        if sync { Self.syncDirectory(directory) }
    }

    /// Appends `data` to `path` (created if missing) and, if `sync` is set, fsyncs it (and, for a new file, its
    /// directory) before returning.
    ///
    /// - Returns: whether the file was created by this append (its directory then changed too).
    /// - Throws: `AgentError.workDirectory` naming the file and the system error.
    @discardableResult
    static func append(_ path: String, _ data: Data, sync: Bool) throws -> Bool {
        var fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        let created = fd < 0 && errno == ENOENT
        if created {
            fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { throw Self.error("open", path) }
        defer { close(fd) }
        try Self.writeAll(fd, data, path: path)
        if sync {
            guard fsync(fd) == 0 else { throw Self.error("fsync", path) }
            if created { Self.syncDirectory((path as NSString).deletingLastPathComponent) }
        }
        return created
    }

    /// Creates a directory (its parent must exist) without syncing anything; returns `false` if it existed.
    ///
    /// - Throws: `AgentError.workDirectory` naming the directory and the system error.
    static func makeDirectory(_ path: String) throws -> Bool {
        if mkdir(path, 0o755) == 0 { return true }
        if errno == EEXIST { return false }
        throw Self.error("create", path)
    }

    /// Creates a directory and its parents, and fsyncs the parent so the new entry is durable.
    static func createDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw AgentError(
                .workDirectory,
                "Cannot create '\(path)'; check that the work directory is writable.",
                cause: error
            )
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
