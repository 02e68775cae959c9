// SPDX-License-Identifier: Apache-2.0

/// The state of a task, with Mesos's names (`TASK_RUNNING`) on the wire and its numeric values.
public enum TaskState: String, Codable, Sendable, CaseIterable {
    case staging = "TASK_STAGING"
    case starting = "TASK_STARTING"
    case running = "TASK_RUNNING"
    case killing = "TASK_KILLING"
    case finished = "TASK_FINISHED"
    case failed = "TASK_FAILED"
    case killed = "TASK_KILLED"
    case error = "TASK_ERROR"
    case lost = "TASK_LOST"
    case dropped = "TASK_DROPPED"
    case unreachable = "TASK_UNREACHABLE"
    case gone = "TASK_GONE"
    case goneByOperator = "TASK_GONE_BY_OPERATOR"
    case unknown = "TASK_UNKNOWN"

    /// Mesos's protobuf enum number.
    public var number: Int {
        switch self {
        case .starting: 0
        case .running: 1
        case .finished: 2
        case .failed: 3
        case .killed: 4
        case .lost: 5
        case .staging: 6
        case .error: 7
        case .killing: 8
        case .dropped: 9
        case .unreachable: 10
        case .gone: 11
        case .goneByOperator: 12
        case .unknown: 13
        }
    }

    /// The state with the given protobuf number.
    public init?(number: Int) {
        guard let state = TaskState.allCases.first(where: { $0.number == number }) else { return nil }
        self = state
    }

    /// Whether the task will never run again in this state.
    ///
    /// `TASK_LOST` counts as terminal here, as Mesos treats it for frameworks that are not partition-aware.
    public var isTerminal: Bool {
        switch self {
        case .finished, .failed, .killed, .error, .lost, .dropped, .gone, .goneByOperator: true
        case .staging, .starting, .running, .killing, .unreachable, .unknown: false
        }
    }

    /// Accepts both the name (`"TASK_RUNNING"`) and the number (`1`), as Mesos's JSON parser does.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self), let state = TaskState(number: number) {
            self = state
            return
        }
        let name = try container.decode(String.self)
        guard let state = TaskState(rawValue: name) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "unknown task state '\(name)'; expected one such as TASK_RUNNING"
            )
        }
        self = state
    }
}
