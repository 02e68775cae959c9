// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import RegattaCore

/// The agent's `/files/browse` and `/files/read`, confined to task sandboxes.
///
/// A path is served only if, with every symlink and `..` resolved, it is a sandbox of a task the agent knows or
/// lies inside one. A path that names a sandbox but resolves outside it (`<sandbox>/../../etc/passwd`, a symlink
/// in the sandbox pointing elsewhere) is refused with 403; any other path outside the sandboxes is 404, as for a
/// file that does not exist. Files are opened without following a final symlink (and without blocking or taking a
/// controlling terminal) and checked again through `/proc/self/fd` after opening, so a path swapped for a symlink
/// between the check and the open is refused too; only regular files are read (a FIFO or device answers 400).
enum SandboxFiles {
    /// One entry of `/files/browse`, in Mesos's shape.
    struct Entry: Encodable, Sendable, Hashable {
        var path: String
        var nlink: Int
        var size: Int
        /// Seconds since the epoch.
        var mtime: Double
        /// As `ls -l` shows it: `drwxr-xr-x`.
        var mode: String
        /// The owner's user name (its number if it has none).
        var uid: String
        /// The owner's group name (its number if it has none).
        var gid: String
    }

    /// `/files/read`'s answer, in Mesos's shape.
    struct Chunk: Encodable, Sendable, Hashable {
        var data: String
        var offset: Int
    }

    /// Why a request is refused; ``status`` is the HTTP status.
    struct Failure: Error, Hashable, Sendable {
        var status: Int
        var message: String

        static func badRequest(_ message: String) -> Failure { Failure(status: 400, message: message) }
        static func forbidden(_ message: String) -> Failure { Failure(status: 403, message: message) }
        static func notFound(_ path: String) -> Failure {
            Failure(
                status: 404,
                message: "File '\(path)' not found; give the absolute path of a file in a task sandbox."
            )
        }
    }

    /// The most `/files/read` returns at once: 16 pages, as Mesos.
    static var maximumReadLength: Int { 16 * max(4096, Int(sysconf(Int32(_SC_PAGESIZE)))) }

    /// Resolves `path` and checks that it lies in one of `sandboxes`.
    ///
    /// - Returns: the resolved path.
    static func resolve(_ path: String?, sandboxes: [String]) throws(Failure) -> String {
        guard let path, !path.isEmpty else { throw .badRequest("Missing 'path' query parameter.") }
        guard path.hasPrefix("/") else {
            throw .badRequest("Path '\(path)' is not absolute; give the absolute path of a file in a task sandbox.")
        }
        // The C calls below stop at a NUL, so `<sandbox>/stdout%00/x` would be served as `<sandbox>/stdout`.
        guard !path.utf8.contains(0) else {
            throw .badRequest("Path contains a NUL character; give the absolute path of a file in a task sandbox.")
        }
        let lexical = Self.normalized(path)
        let named = sandboxes.contains { Self.isInside(path, root: $0) }
        let lexicallyInside = sandboxes.contains { Self.isInside(lexical, root: Self.normalized($0)) }
        if named && !lexicallyInside {
            // `<sandbox>/../..`: refused whether or not the target exists.
            throw .forbidden("Path '\(path)' leads outside the task's sandbox; only sandbox files are served.")
        }
        let roots = sandboxes.compactMap(Self.realPath)
        guard let resolved = Self.realPath(path) else {
            // Say nothing about what exists outside the sandboxes.
            throw .notFound(path)
        }
        if roots.contains(where: { Self.isInside(resolved, root: $0) }) {
            return resolved
        }
        if lexicallyInside || roots.contains(where: { Self.isInside(lexical, root: $0) }) {
            // A symlink in the sandbox that points elsewhere.
            throw .forbidden("Path '\(path)' leads outside the task's sandbox; only sandbox files are served.")
        }
        throw .notFound(path)
    }

    /// `path` with `.`, `..` and repeated slashes removed, without looking at the file system.
    static func normalized(_ path: String) -> String {
        var components: [String] = []
        for component in PathComponents.split(path) {
            if PathComponents.isDot(component) { continue }
            if PathComponents.isDotDot(component) {
                if !components.isEmpty { components.removeLast() }
                continue
            }
            components.append(component)
        }
        return "/" + components.joined(separator: "/")
    }

    /// `/files/browse?path=`: the entries of a sandbox directory (or the file itself).
    static func browse(_ path: String?, sandboxes: [String]) throws(Failure) -> [Entry] {
        let resolved = try Self.resolve(path, sandboxes: sandboxes)
        var info = stat()
        guard lstat(resolved, &info) == 0 else { throw .notFound(path ?? "") }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            return [Self.entry(resolved, info)]
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: resolved)) ?? []
        return names.sorted().compactMap { name in
            let child = resolved + "/" + name
            var childInfo = stat()
            guard lstat(child, &childInfo) == 0 else { return nil }
            return Self.entry(child, childInfo)
        }
    }

    /// `/files/read?path=&offset=&length=`: up to ``maximumReadLength`` bytes from `offset`; with no offset (or
    /// `-1`), no data and the file's size as the offset, as Mesos answers.
    static func read(_ path: String?, offset: String?, length: String?, sandboxes: [String]) throws(Failure) -> Chunk {
        let start: Int
        if let offset {
            guard let value = Int(offset), value >= -1 else {
                throw .badRequest("Failed to parse offset '\(offset)'; give a byte offset of 0 or more.")
            }
            start = value
        } else {
            start = -1
        }
        var count = Self.maximumReadLength
        if let length {
            guard let value = Int(length), value >= 0 else {
                throw .badRequest("Failed to parse length '\(length)'; give a byte count of 0 or more.")
            }
            count = min(value, Self.maximumReadLength)
        }
        let resolved = try Self.resolve(path, sandboxes: sandboxes)
        // O_NONBLOCK: a FIFO planted in the sandbox cannot block the open; O_NOCTTY: a terminal device never becomes
        // the agent's controlling terminal. Anything but a regular file is refused below.
        let fd = open(resolved, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ELOOP { throw .forbidden("Path '\(path ?? "")' is a symlink; only sandbox files are served.") }
            throw .notFound(path ?? "")
        }
        defer { close(fd) }
        // The path was checked before the open; check what was actually opened.
        guard let opened = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"),
            sandboxes.compactMap(Self.realPath).contains(where: { Self.isInside(opened, root: $0) })
        else {
            throw .forbidden("Path '\(path ?? "")' leads outside the task's sandbox; only sandbox files are served.")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .notFound(path ?? "") }
        if info.st_mode & S_IFMT == S_IFDIR {
            throw .badRequest("Cannot read '\(path ?? "")': it is a directory; use /files/browse.")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw .badRequest("Cannot read '\(path ?? "")': it is not a regular file.")
        }
        let size = Int(info.st_size)
        if start == -1 {
            return Chunk(data: "", offset: size)
        }
        guard start < size, count > 0 else {
            return Chunk(data: "", offset: start)
        }
        var buffer = [UInt8](repeating: 0, count: min(count, size - start))
        let read = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
        guard read >= 0 else {
            throw .badRequest("Cannot read '\(path ?? "")': \(String(cString: strerror(errno))).")
        }
        return Chunk(data: String(decoding: buffer.prefix(read), as: UTF8.self), offset: start)
    }

    // MARK: - Private

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether `path` is `root` or below it, comparing bytes: `String`'s `==` and `hasPrefix` compare grapheme
    /// clusters under canonical equivalence, so a combining mark after a `/` hid the prefix, and a differently
    /// normalized name matched one it is not on disk.
    private static func isInside(_ path: String, root: String) -> Bool {
        let prefix = root.utf8.last == UInt8(ascii: "/") ? root : root + "/"
        return path.utf8.elementsEqual(root.utf8) || path.utf8.starts(with: prefix.utf8)
    }

    private static func entry(_ path: String, _ info: stat) -> Entry {
        Entry(
            path: path,
            nlink: Int(info.st_nlink),
            size: Int(info.st_size),
            mtime: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9,
            mode: Self.modeString(info.st_mode),
            uid: Self.userName(info.st_uid),
            gid: Self.groupName(info.st_gid)
        )
    }

    /// `ls -l`'s mode string.
    static func modeString(_ mode: mode_t) -> String {
        let type: Character
        switch mode & S_IFMT {
        case S_IFDIR: type = "d"
        case S_IFLNK: type = "l"
        case S_IFCHR: type = "c"
        case S_IFBLK: type = "b"
        case S_IFIFO: type = "p"
        case S_IFSOCK: type = "s"
        default: type = "-"
        }
        let bits: [(mode_t, Character)] = [
            (S_IRUSR, "r"), (S_IWUSR, "w"), (S_IXUSR, "x"), (S_IRGRP, "r"), (S_IWGRP, "w"), (S_IXGRP, "x"),
            (S_IROTH, "r"), (S_IWOTH, "w"), (S_IXOTH, "x"),
        ]
        return String([type] + bits.map { mode & $0.0 != 0 ? $0.1 : "-" })
    }

    private static func userName(_ uid: uid_t) -> String {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name
        else { return String(uid) }
        return String(cString: name)
    }

    private static func groupName(_ gid: gid_t) -> String {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.gr_name
        else { return String(gid) }
        return String(cString: name)
    }
}
