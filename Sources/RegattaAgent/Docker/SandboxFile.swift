// SPDX-License-Identifier: Apache-2.0
import Glibc

/// Opens the files the agent itself keeps in a sandbox (`stdout`, `stderr`, the Docker log position) so that
/// nothing a task plants there can redirect the agent.
///
/// The sandbox is mounted read-write into its container, so a task can replace `stdout` with a symlink to any host
/// file (or a FIFO that blocks the agent). Each file is therefore opened relative to the sandbox directory's own
/// descriptor (`openat`, the directory itself opened with `O_NOFOLLOW`), with `O_NOFOLLOW` (a symlink fails with
/// `ELOOP`), `O_NONBLOCK` (a FIFO cannot block the open) and `O_NOCTTY`, and kept only if `fstat` says it is a
/// regular file.
enum SandboxFile {
    /// Opens `name` in `sandbox` with `flags` (`O_NOFOLLOW`, `O_CLOEXEC`, `O_NONBLOCK` and `O_NOCTTY` are added).
    ///
    /// - Returns: the descriptor of a regular file; the caller closes it.
    /// - Throws: `AgentError.workDirectory` naming the file when it cannot be opened or is not a regular file.
    static func open(_ name: String, in sandbox: String, flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        let path = "\(sandbox)/\(name)"
        let directory = Glibc.open(sandbox, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directory >= 0 else {
            throw AgentError(
                .workDirectory,
                "Cannot open the sandbox '\(sandbox)': \(String(cString: strerror(errno))); check that it exists and "
                    + "is a directory."
            )
        }
        defer { close(directory) }
        let descriptor = openat(
            directory,
            name,
            flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
            mode
        )
        guard descriptor >= 0 else {
            let reason = errno == ELOOP ? "it is a symlink" : String(cString: strerror(errno))
            throw AgentError(
                .workDirectory,
                "Refusing to open '\(path)': \(reason); the agent only opens regular sandbox files."
            )
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw AgentError(
                .workDirectory,
                "Refusing to open '\(path)': it is not a regular file; the agent only opens regular "
                    + "sandbox files."
            )
        }
        return descriptor
    }

    /// The modification time of the regular file `name` in `sandbox` (symlinks and special files are ignored).
    static func modificationTime(_ name: String, in sandbox: String) -> timespec? {
        var info = stat()
        guard lstat("\(sandbox)/\(name)", &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return info.st_mtim
    }
}
