// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// One line of a task's status update log, `<work_dir>/meta/runs/<container_id>/updates.log` (JSON lines, as
/// Mesos's `task.updates` stream file).
///
/// - `UPDATE`: an update the agent produced; appended and fsync'd before it is sent.
/// - `TAKEN`: the master answered `2xx` to a send of update `uuid`.
/// - `ACK`: the framework acknowledged update `uuid`.
struct UpdateRecord: Codable, Hashable, Sendable {
    enum RecordType: String, Codable, Hashable, Sendable {
        case update = "UPDATE"
        case taken = "TAKEN"
        case ack = "ACK"
    }

    var type: RecordType
    var update: StatusUpdateManager.Update?
    var uuid: String?

    static func update(_ update: StatusUpdateManager.Update) -> UpdateRecord {
        UpdateRecord(type: .update, update: update, uuid: nil)
    }

    static func taken(_ uuid: String) -> UpdateRecord {
        UpdateRecord(type: .taken, update: nil, uuid: uuid)
    }

    static func ack(_ uuid: String) -> UpdateRecord {
        UpdateRecord(type: .ack, update: nil, uuid: uuid)
    }

    /// The stream a log describes, replayed.
    struct Replay: Hashable, Sendable {
        /// Every update, in order.
        var all: [StatusUpdateManager.Update] = []
        /// The updates not acknowledged, in order.
        var pending: [StatusUpdateManager.Update] = []
        /// Whether the master took the first pending update.
        var headTaken = false
        /// The state of the newest update the master took or the framework acknowledged.
        var masterState: TaskState?
    }

    /// Replays records into the stream they describe; records that do not fit (an ack of an unknown uuid) are
    /// skipped, as a duplicate ack is.
    static func replay(_ records: [UpdateRecord]) -> Replay {
        var replay = Replay()
        for record in records {
            switch record.type {
            case .update:
                guard let update = record.update else { continue }
                replay.all.append(update)
                replay.pending.append(update)
            case .taken:
                guard let head = replay.pending.first, head.uuid == record.uuid else { continue }
                replay.headTaken = true
                replay.masterState = head.status.state
            case .ack:
                guard let head = replay.pending.first, head.uuid == record.uuid else { continue }
                replay.masterState = head.status.state
                replay.pending.removeFirst()
                replay.headTaken = false
            }
        }
        return replay
    }
}
