// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

@Suite struct MesosJSONTests {
    @Test func identifiersUseTheValueWrapper() throws {
        let encoded = try MesosJSON.encode(TaskID("web.1"))
        #expect(String(decoding: encoded, as: UTF8.self) == #"{"value":"web.1"}"#)
        #expect(try MesosJSON.decode(AgentID.self, from: Data(#"{"value":"S1"}"#.utf8)) == "S1")
        #expect(AgentID("b") > AgentID("a"))
        #expect(OfferID("o").description == "o")
    }

    @Test func encodesSlashesUnescaped() throws {
        let encoded = try MesosJSON.encode(CommandURI(value: "http://host/a/b.tgz"))
        #expect(String(decoding: encoded, as: UTF8.self).contains("http://host/a/b.tgz"))
    }

    @Test func missingFieldNamesThePath() {
        let json = #"{"type":"KILL","kill":{"agent_id":{"value":"a"}}}"#
        let error = #expect(throws: CoreError.self) {
            try MesosJSON.decode(SchedulerCall.self, from: Data(json.utf8))
        }
        #expect(error?.code == .invalidJSON)
        #expect(error?.message.contains("/kill/") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("is required") == true)
    }

    @Test func wrongTypeNamesThePath() {
        let json =
            #"{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"f"},"#
            + #""heartbeat_interval_seconds":"x"}}"#
        let error = #expect(throws: CoreError.self) {
            try MesosJSON.decode(SchedulerEvent.self, from: Data(json.utf8))
        }
        #expect(error?.message.contains("heartbeat") == true, "\(error?.message ?? "")")
    }

    @Test func notJSONIsAnInvalidJSONError() {
        let error = #expect(throws: CoreError.self) {
            try MesosJSON.decode(SchedulerCall.self, from: Data("<html>".utf8))
        }
        #expect(error?.code == .invalidJSON)
        #expect(error?.message.hasPrefix("Invalid JSON") == true)
    }

    @Test func labelsAndEnvironmentHelpers() {
        let labels = Labels(["b": "2", "a": "1"])
        #expect(labels.labels.map(\.key) == ["a", "b"])
        #expect(labels["b"] == "2")
        #expect(labels["c"] == nil)
        let environment = Environment([.init(name: "A", value: "1"), .init(name: "A", value: "2")])
        #expect(environment.dictionary == ["A": "2"])
        #expect(DurationInfo(seconds: 1.5).nanoseconds == 1_500_000_000)
        #expect(CommandInfo(value: "x").isShell)
        #expect(!CommandInfo(shell: false, arguments: ["a"]).isShell)
    }
}
