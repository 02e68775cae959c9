// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

@Suite struct TaskStateTests {
    private struct Box: Codable, Equatable {
        var state: TaskState
    }

    private static let numbers: [TaskState: Int] = [
        .starting: 0, .running: 1, .finished: 2, .failed: 3, .killed: 4, .lost: 5, .staging: 6, .error: 7,
        .killing: 8, .dropped: 9, .unreachable: 10, .gone: 11, .goneByOperator: 12, .unknown: 13,
    ]

    @Test func numbersMatchMesosProto() {
        #expect(TaskState.allCases.count == 14)
        for state in TaskState.allCases {
            #expect(state.number == Self.numbers[state], "\(state)")
            #expect(TaskState(number: state.number) == state)
        }
        #expect(TaskState(number: 14) == nil)
        #expect(TaskState(number: -1) == nil)
    }

    @Test(arguments: TaskState.allCases)
    func decodesByNumberAndByName(state: TaskState) throws {
        let byName = try MesosJSON.decode(Box.self, from: Data(#"{"state":"\#(state.rawValue)"}"#.utf8))
        let byNumber = try MesosJSON.decode(Box.self, from: Data(#"{"state":\#(state.number)}"#.utf8))
        #expect(byName.state == state)
        #expect(byNumber.state == state)
        // Encoding always uses the name.
        #expect(String(decoding: try MesosJSON.encode(byNumber), as: UTF8.self) == #"{"state":"\#(state.rawValue)"}"#)
    }

    @Test func rejectsAnUnknownName() {
        let error = #expect(throws: CoreError.self) {
            try MesosJSON.decode(Box.self, from: Data(#"{"state":"TASK_BOGUS"}"#.utf8))
        }
        #expect(error?.code == .invalidJSON)
        #expect(error?.message.contains("TASK_BOGUS") == true)
        #expect(error?.message.contains("/state") == true)
    }

    @Test func rejectsAnUnknownNumber() {
        #expect(throws: CoreError.self) {
            try MesosJSON.decode(Box.self, from: Data(#"{"state":99}"#.utf8))
        }
    }

    @Test func terminalStates() {
        let terminal: Set<TaskState> = [.finished, .failed, .killed, .error, .lost, .dropped, .gone, .goneByOperator]
        for state in TaskState.allCases {
            #expect(state.isTerminal == terminal.contains(state), "\(state)")
        }
    }
}
