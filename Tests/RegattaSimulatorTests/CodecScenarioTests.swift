// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaBench
import Testing

/// `regatta bench codec`: both paths measured for every message, after checking they decode it to itself.
@Suite(.timeLimit(.minutes(2)))
struct CodecScenarioTests {
    @Test func measuresFoundationAndFastForEveryMessage() async throws {
        var options = BenchOptions()
        options.rounds = 1
        let report = try await Bench.run(.codec, options: options, logger: Logger(label: "test.bench"))
        #expect(report.jsonLine.hasPrefix("{\"scenario\":\"codec\""))
        for name in [
            "agent_call_update", "agent_call_subscribe_100_tasks", "agent_message_launch_roundtrip",
            "scheduler_call_acknowledge", "scheduler_call_accept_10_tasks", "scheduler_event_update_roundtrip",
            "scheduler_event_offers_100_roundtrip",
        ] {
            #expect((report.number("\(name)_foundation_msgs_per_s") ?? 0) > 0, "\(name)")
            #expect((report.number("\(name)_fast_msgs_per_s") ?? 0) > 0, "\(name)")
            #expect((report.number("\(name)_bytes") ?? 0) > 0, "\(name)")
        }
    }
}
