// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// Reads and writes the checkpoints of task runs under `<work_dir>/meta/runs/<container_id>/`:
///
/// - `task.json`: the ``TaskCheckpoint`` (atomic rewrite, fsync'd), written at launch and when its pid or kill
///   request changes; the task's later states are in `updates.log`;
/// - `updates.log`: the task's status update stream (``UpdateRecord`` JSON lines; updates fsync'd before they are
///   sent);
/// - `exit_status`: written by the task's supervisor when the task's command ends (see ``TaskSupervisor``).
///
/// All I/O is synchronous and small; the agent calls it from its state actor so that a checkpoint is on disk
/// before anything depends on it.
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

    /// Writes a run's `task.json`, creating its directory on first use.
    func save(_ checkpoint: TaskCheckpoint) throws {
        let directory = self.runDirectory(checkpoint.containerId)
        if !FileManager.default.fileExists(atPath: directory) {
            try DurableFile.createDirectory(directory)
        }
        try DurableFile.replace(self.taskFile(checkpoint.containerId), with: try self.taskEncoder.encode(checkpoint))
    }

    /// Appends a record to a run's update log; `UPDATE` records are fsync'd.
    func append(_ record: UpdateRecord, container: ContainerID) throws {
        var line = try self.recordEncoder.encode(record)
        line.append(UInt8(ascii: "\n"))
        try DurableFile.append(self.updatesFile(container), line, sync: record.type == .update)
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
                cause: error)
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
