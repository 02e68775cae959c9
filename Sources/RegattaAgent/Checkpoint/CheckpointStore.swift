// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// Reads and writes the checkpoints of task runs under `<work_dir>/meta/runs/<container_id>/`:
///
/// - `task.json`: the ``TaskCheckpoint`` (atomic rewrite), written at launch and when its pid or kill request
///   changes; the task's later states are in `updates.log`;
/// - `updates.log`: the task's status update stream (``UpdateRecord`` JSON lines);
/// - `exit_status`: written by the task's supervisor when the task's command ends (see ``TaskSupervisor``).
///
/// All I/O is synchronous and small; the agent calls it from its state actor so that a checkpoint is written
/// (and survives the agent process) before anything depends on it. ``write(_:)`` and ``append(_:container:)``
/// do not fsync: they return what must still reach the disk, which the agent hands to its ``CheckpointSyncer``
/// and waits for before it sends a status update that depends on it (a group commit: one fsync covers many
/// writes, outside the actor). ``save(_:)`` fsyncs before it returns.
struct CheckpointStore: Sendable {
    /// `<work_dir>/meta/runs`.
    var runsDirectory: String
    /// One encoder for every `task.json` (sorted keys, Mesos field names), rather than one per write.
    private let taskEncoder: JSONEncoder
    /// One encoder for every `updates.log` line.
    private let recordEncoder = MesosJSON.encoder()

    init(layout: SandboxLayout) {
        self.runsDirectory = layout.metaDirectory + "/runs"
        let encoder = MesosJSON.encoder()
        encoder.outputFormatting.insert(.sortedKeys)
        self.taskEncoder = encoder
    }

    /// The checkpoint directory of one run.
    func runDirectory(_ container: ContainerID) -> String {
        self.runsDirectory + "/" + container.value
    }

    /// Whether the run's checkpoint directory exists (its first write succeeded).
    func hasRun(_ container: ContainerID) -> Bool {
        FileManager.default.fileExists(atPath: self.runDirectory(container))
    }

    func taskFile(_ container: ContainerID) -> String {
        self.runDirectory(container) + "/task.json"
    }

    func updatesFile(_ container: ContainerID) -> String {
        self.runDirectory(container) + "/updates.log"
    }

    /// Where the supervisor writes the command's exit code.
    func exitStatusFile(_ container: ContainerID) -> String {
        self.runDirectory(container) + "/" + TaskSupervisor.exitStatusFileName
    }

    /// Writes a run's `task.json` durably (fsync'd), creating its directory on first use.
    func save(_ checkpoint: TaskCheckpoint) throws {
        let directory = self.runDirectory(checkpoint.containerId)
        if !FileManager.default.fileExists(atPath: directory) {
            try DurableFile.createDirectory(directory)
        }
        try DurableFile.replace(self.taskFile(checkpoint.containerId), with: try self.taskEncoder.encode(checkpoint))
    }

    /// Writes a run's `task.json` (atomically, not fsync'd), creating its directory on first use.
    ///
    /// - Returns: what must still be synced for the checkpoint to be durable.
    func write(_ checkpoint: TaskCheckpoint) throws -> CheckpointSyncer.Writes {
        let directory = self.runDirectory(checkpoint.containerId)
        var writes = CheckpointSyncer.Writes()
        if !FileManager.default.fileExists(atPath: self.runsDirectory) {
            // The first run ever: create (and sync) the parents once.
            try DurableFile.createDirectory(directory)
        } else if try DurableFile.makeDirectory(directory) {
            writes.directories.append(self.runsDirectory)
        }
        let file = self.taskFile(checkpoint.containerId)
        try DurableFile.replace(file, with: try self.taskEncoder.encode(checkpoint), sync: false)
        writes.files.append(file)
        writes.directories.append(directory)
        return writes
    }

    /// Appends a record to a run's update log (not fsync'd).
    ///
    /// - Returns: what must still be synced: the log for an `UPDATE` record (and the run directory when the log
    ///   was created); nothing for `TAKEN` and `ACK`, which only save resends and are never waited for.
    @discardableResult
    func append(_ record: UpdateRecord, container: ContainerID) throws -> CheckpointSyncer.Writes {
        var line = try self.recordEncoder.encode(record)
        line.append(UInt8(ascii: "\n"))
        let file = self.updatesFile(container)
        let created = try DurableFile.append(file, line, sync: false)
        guard record.type == .update else { return CheckpointSyncer.Writes() }
        return CheckpointSyncer.Writes(files: [file], directories: created ? [self.runDirectory(container)] : [])
    }

    /// The container ids that have a checkpoint directory.
    func runs() -> [ContainerID] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: self.runsDirectory)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { ContainerID($0) }
    }

    /// A run's saved task.
    ///
    /// - Throws: `AgentError.invalidMetadata` if the file is missing or unreadable.
    func load(_ container: ContainerID) throws -> TaskCheckpoint {
        let path = self.taskFile(container)
        do {
            return try MesosJSON.decode(TaskCheckpoint.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw AgentError(
                .invalidMetadata,
                "Cannot read the task checkpoint '\(path)'; the run is skipped. Remove its directory if it is stale.",
                cause: error
            )
        }
    }

    /// A run's update log. A torn last line (the agent died while appending) is ignored: its update was never sent.
    func records(_ container: ContainerID) -> [UpdateRecord] {
        guard let data = FileManager.default.contents(atPath: self.updatesFile(container)) else { return [] }
        var records: [UpdateRecord] = []
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            if let record = try? MesosJSON.decode(UpdateRecord.self, from: Data(line)) {
                records.append(record)
            }
        }
        return records
    }

    /// The exit code the supervisor recorded, if the command ended.
    func exitStatus(_ container: ContainerID) -> Int32? {
        TaskSupervisor.readExitStatus(self.exitStatusFile(container))
    }

    /// Deletes a run's checkpoint directory.
    func remove(_ container: ContainerID) {
        try? FileManager.default.removeItem(atPath: self.runDirectory(container))
    }
}
