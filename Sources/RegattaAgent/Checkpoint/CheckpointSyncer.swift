// SPDX-License-Identifier: Apache-2.0
import Dispatch
import Foundation
import Glibc
import Logging
import Synchronization

/// Group commit of the agent's checkpoint writes: the agent writes checkpoint files at once (so they survive the
/// agent process), registers what must still reach the disk, and waits for that only where it matters — before a
/// status update that depends on it is sent.
///
/// One commit at a time runs on a background queue and makes durable everything registered before it started:
/// it fsyncs the written files, then the directories whose entries changed (files created or renamed into them).
/// Registrations made while a commit runs wait for the next one, so under load one fsync per file covers many writes, and nothing blocks the
/// agent's state actor. Tickets are handed out in registration order and a commit completes every ticket up to
/// the newest one it saw, so waiting for a ticket waits for everything registered before it too.
final class CheckpointSyncer: Sendable {
    /// What a commit does with one registration.
    struct Writes: Sendable, Hashable {
        /// Files written (appended to, created or renamed into place): fsync'd first.
        var files: [String] = []
        /// Directories whose entries changed (a file or directory created or renamed in them): fsync'd last.
        var directories: [String] = []

        var isEmpty: Bool { self.files.isEmpty && self.directories.isEmpty }
    }

    /// Flushes a file or directory to disk and returns an error message when that fails; injected by tests to
    /// watch when things are synced.
    typealias Sync = @Sendable (String) -> String?

    /// `fsync(2)` of the file or directory at `path`; one removed meanwhile (its run was collected) needs nothing.
    static let fsyncPath: Sync = { path in
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            return errno == ENOENT ? nil : String(cString: strerror(errno))
        }
        defer { close(descriptor) }
        return fsync(descriptor) == 0 ? nil : String(cString: strerror(errno))
    }

    private struct State {
        var pending = Writes()
        var pendingFiles: Set<String> = []
        var pendingDirectories: Set<String> = []
        /// The newest ticket handed out.
        var registered: UInt64 = 0
        /// Every ticket up to this one is durable.
        var durable: UInt64 = 0
        var committing = false
        var waiters: [(ticket: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "regatta.agent.checkpoint-sync")
    /// Flushes the whole file system holding `path`: `nil` when `path` is gone, else `.some(nil)` on success or
    /// `.some(error message)`.
    typealias SyncFileSystem = @Sendable (String) -> String??

    /// `syncfs(2)` of the file system holding `path`.
    static let syncFileSystemOfPath: SyncFileSystem = { path in
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            return errno == ENOENT ? nil : .some(String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        return CheckpointSyncer.syncfs(descriptor) == 0 ? .some(nil) : .some(String(cString: strerror(errno)))
    }

    /// glibc's `syncfs(2)`, which the Glibc module does not export (it is a `_GNU_SOURCE` declaration); `fsync`
    /// of the one descriptor if the C library lacks it.
    private static let syncfs: @convention(c) (Int32) -> Int32 = {
        guard let symbol = dlsym(nil, "syncfs") else { return { fsync($0) } }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)
    }()

    /// From how many paths a commit syncs the file system rather than each path.
    static let syncFileSystemThreshold = 16

    private let sync: Sync
    private let syncFileSystem: SyncFileSystem?
    private let logger: Logger

    /// Creates a syncer flushing with `sync` (`fsync(2)` unless a test watches) and, for large batches,
    /// `syncFileSystem` (`syncfs(2)`; `nil` always syncs path by path).
    init(
        sync: @escaping Sync = CheckpointSyncer.fsyncPath,
        syncFileSystem: SyncFileSystem? = CheckpointSyncer.syncFileSystemOfPath,
        logger: Logger
    ) {
        self.sync = sync
        self.syncFileSystem = syncFileSystem
        self.logger = logger
    }

    /// Registers writes that are done but not durable yet and starts a commit if none runs.
    ///
    /// - Returns: the ticket that ``waitUntilDurable(_:)`` takes; it covers everything registered before too.
    @discardableResult
    func register(_ writes: Writes) -> UInt64 {
        let (ticket, start) = self.state.withLock { state -> (UInt64, Bool) in
            for file in writes.files where state.pendingFiles.insert(file).inserted {
                state.pending.files.append(file)
            }
            for directory in writes.directories where state.pendingDirectories.insert(directory).inserted {
                state.pending.directories.append(directory)
            }
            state.registered += 1
            let start = !state.committing
            state.committing = true
            return (state.registered, start)
        }
        if start {
            self.queue.async { self.commitAll() }
        }
        return ticket
    }

    /// The newest ticket handed out: waiting for it waits for every write registered so far.
    var latestTicket: UInt64 {
        self.state.withLock { $0.registered }
    }

    /// Whether every write registered up to `ticket` is durable.
    func isDurable(_ ticket: UInt64) -> Bool {
        self.state.withLock { $0.durable >= ticket }
    }

    /// Returns once every write registered up to `ticket` is durable (at once if it already is).
    func waitUntilDurable(_ ticket: UInt64) async {
        if self.isDurable(ticket) { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = self.state.withLock { state -> Bool in
                if state.durable >= ticket { return true }
                state.waiters.append((ticket, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Commits until nothing is pending; runs on ``queue``.
    private func commitAll() {
        while true {
            let (writes, upTo) = self.state.withLock { state -> (Writes, UInt64) in
                let writes = state.pending
                state.pending = Writes()
                state.pendingFiles.removeAll(keepingCapacity: true)
                state.pendingDirectories.removeAll(keepingCapacity: true)
                return (writes, state.registered)
            }
            self.commit(writes)
            let (ready, done) = self.state.withLock { state -> ([CheckedContinuation<Void, Never>], Bool) in
                state.durable = max(state.durable, upTo)
                var ready: [CheckedContinuation<Void, Never>] = []
                state.waiters.removeAll { waiter in
                    guard waiter.ticket <= state.durable else { return false }
                    ready.append(waiter.continuation)
                    return true
                }
                let done = state.pending.isEmpty && state.registered == state.durable
                if done { state.committing = false }
                return (ready, done)
            }
            for continuation in ready { continuation.resume() }
            if done { return }
        }
    }

    /// Makes one batch durable: the files, then the directories — or, for a large batch, the whole file system at
    /// once (`syncfs(2)`: one journal commit instead of one fsync per file, which on ext4 commits the journal
    /// each time).
    private func commit(_ writes: Writes) {
        let paths = writes.files + writes.directories
        if paths.count >= Self.syncFileSystemThreshold, let syncFileSystem = self.syncFileSystem {
            for path in paths {
                switch syncFileSystem(path) {
                case .some(nil): return
                case .some(let failure?):
                    self.logger.error(
                        "Cannot make checkpoints durable; they may be lost if the machine crashes",
                        metadata: ["checkpoint.path": "\(path)", LogKey.error: "syncfs: \(failure)"]
                    )
                    return
                case nil: continue  // gone meanwhile: try the next one
                }
            }
            return
        }
        for path in paths {
            if let failure = self.sync(path) {
                self.logger.error(
                    "Cannot make a checkpoint durable; it may be lost if the machine crashes",
                    metadata: ["checkpoint.path": "\(path)", LogKey.error: "fsync: \(failure)"]
                )
            }
        }
    }
}
