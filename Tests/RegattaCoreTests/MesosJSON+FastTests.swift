// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaTestKit
import Testing

/// The fast codecs of the protocol messages against Foundation's: fixtures, randomized values, malformed input.
@Suite struct MesosJSONFastTests {
    // MARK: Fixtures

    @Test func mesosDocumentExamplesDecodeAsFoundationDecodesThem() throws {
        try FastCodecCheck.sameValue(SchedulerCall.self, MesosExamples.subscribe)
        try FastCodecCheck.sameValue(SchedulerEvent.self, MesosExamples.subscribed)
        try FastCodecCheck.sameValue(SchedulerEvent.self, MesosExamples.offers)
        try FastCodecCheck.sameValue(SchedulerCall.self, MesosExamples.acceptLaunch)
        try FastCodecCheck.sameValue(SchedulerCall.self, MesosExamples.decline)
        try FastCodecCheck.sameValue(SchedulerCall.self, MesosExamples.acknowledge)
        try FastCodecCheck.sameValue(SchedulerCall.self, MesosExamples.reconcile)
        try FastCodecCheck.sameValue(SchedulerCall.self, MesosExamples.kill)
        try FastCodecCheck.sameValue(SchedulerEvent.self, MesosExamples.update)
    }

    @Test func referenceShapesDecodeAsFoundationDecodesThem() throws {
        // docs/reference: marathon-mesos-api.md §6.1 and §6.2.
        try FastCodecCheck.sameValue(
            SchedulerCall.self,
            #"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"marathon","roles":["*"],"capabilities":[{"type":"MULTI_ROLE"}],"failover_timeout":604800,"id":{"value":"f-1"}},"suppressed_roles":[]}}"#
        )
        try FastCodecCheck.sameValue(
            SchedulerCall.self,
            #"{"framework_id":{"value":"f"},"type":"ACCEPT","accept":{"offer_ids":[{"value":"o1"}],"operations":[{"type":"LAUNCH","launch":{"task_infos":[]}}],"filters":{"refuse_seconds":5.0}}}"#
        )
        try FastCodecCheck.sameValue(
            SchedulerCall.self,
            #"{"type":"DECLINE","decline":{"offer_ids":[{"value":"o"}],"filters":{"refuse_seconds":5}}}"#
        )
        try FastCodecCheck.sameValue(SchedulerCall.self, #"{"type":"REVIVE","revive":{"role":"web"}}"#)
        try FastCodecCheck.sameValue(SchedulerCall.self, #"{"type":"SUPPRESS","suppress":{"roles":["a","b"]}}"#)
        try FastCodecCheck.sameValue(
            SchedulerCall.self,
            #"{"type":"SHUTDOWN","shutdown":{"executor_id":{"value":"e"},"agent_id":{"value":"a"}}}"#
        )
        try FastCodecCheck.sameValue(
            SchedulerCall.self,
            #"{"type":"MESSAGE","message":{"agent_id":{"value":"a"},"executor_id":{"value":"e"},"data":"aGk="}}"#
        )
        try FastCodecCheck.sameValue(SchedulerEvent.self, #"{"type":"RESCIND","rescind":{"offer_id":{"value":"o"}}}"#)
        try FastCodecCheck.sameValue(
            SchedulerEvent.self,
            #"{"type":"FAILURE","failure":{"agent_id":{"value":"a"},"executor_id":{"value":"e"},"status":137}}"#
        )
        try FastCodecCheck.sameValue(SchedulerEvent.self, #"{"type":"ERROR","error":{"message":"Framework teardown"}}"#)
        try FastCodecCheck.sameValue(SchedulerEvent.self, #"{"type":"HEARTBEAT"}"#)
        try FastCodecCheck.sameValue(
            Resource.self,
            #"{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]}}"#
        )
        try FastCodecCheck.sameValue(
            MasterInfo.self,
            #"{"id":"m","ip":16777343,"port":5050,"pid":"master@127.0.0.1:5050","hostname":"h","version":"1.12.0","address":{"hostname":"h","ip":"127.0.0.1","port":5050}}"#
        )
    }

    @Test func agentProtocolFixturesDecodeAsFoundationDecodesThem() throws {
        try FastCodecCheck.sameValue(AgentCall.self, AgentProtocolExamples.subscribe)
        try FastCodecCheck.sameValue(AgentCall.self, AgentProtocolExamples.update)
        try FastCodecCheck.sameValue(AgentCall.self, AgentProtocolExamples.pong)
        try FastCodecCheck.sameValue(AgentMessage.self, AgentProtocolExamples.registered)
        try FastCodecCheck.sameValue(AgentMessage.self, AgentProtocolExamples.launch)
        try FastCodecCheck.sameValue(AgentMessage.self, AgentProtocolExamples.kill)
        try FastCodecCheck.sameValue(AgentMessage.self, AgentProtocolExamples.acknowledge)
        try FastCodecCheck.sameValue(AgentMessage.self, #"{"type":"PING"}"#)
        try FastCodecCheck.sameValue(
            AgentMessage.self,
            #"{"type":"SHUTDOWN_FRAMEWORK","shutdown_framework":{"framework_id":{"value":"f"}}}"#
        )
        try FastCodecCheck.sameValue(
            AgentMessage.self,
            #"{"type":"ERROR","error":{"message":"Agent \"a\" is unknown"}}"#
        )
    }

    @Test func lenientShapesDecodeAsFoundationDecodesThem() throws {
        // Whitespace everywhere, keys in any order, nulls for optionals, unknown keys of every type, a numeric state,
        // escapes in strings and keys, a resource without type or role.
        let json = """
             \t\r\n{ "update" : { "status" : { "state" : 1 , "message" : null, "healthy": false,
               "task_id" : { "value" : "t\\u00e9\\ud83d\\ude00\\n\\/" , "extra": [1, -2.5e3, true, null, {"x": {}}, []] },
               "timestamp": 1.7e9, "labels": {"labels": [{"key": "k"}]}, "unknown_key": "x", "": 0
             }, "framework_id": {"value": "f"} }, "type": "UPDATE", "agent_id": {"val\\u0075e": "a"} }
            """
        try FastCodecCheck.sameValue(AgentCall.self, json)
        try FastCodecCheck.sameValue(Resource.self, #"{"name":"cpus","scalar":{"value":0.1},"type":null,"role":null}"#)
        try FastCodecCheck.sameValue(
            Resource.self,
            #"{"name":"cpus","scalar":{"value":2},"role":"x","reservations":[{"type":"STATIC","role":"a"},{"role":"b"}]}"#
        )
        try FastCodecCheck.sameValue(
            Resource.self,
            #"{"name":"cpus","scalar":{"value":2},"role":"x","reservations":[{"role":null}]}"#
        )
    }

    // MARK: Randomized

    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomAgentCallsRoundTrip(seed: UInt64) throws {
        var random = MesosRandomValues(seed: seed)
        for _ in 0..<150 { try FastCodecCheck.roundTrip(random.agentCall()) }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomAgentMessagesRoundTrip(seed: UInt64) throws {
        var random = MesosRandomValues(seed: seed)
        for _ in 0..<200 { try FastCodecCheck.roundTrip(random.agentMessage()) }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomSchedulerCallsRoundTrip(seed: UInt64) throws {
        var random = MesosRandomValues(seed: seed)
        for _ in 0..<150 { try FastCodecCheck.roundTrip(random.schedulerCall()) }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomSchedulerEventsRoundTrip(seed: UInt64) throws {
        var random = MesosRandomValues(seed: seed)
        for _ in 0..<200 { try FastCodecCheck.roundTrip(random.schedulerEvent()) }
    }

    @Test func everyPieceRoundTrips() throws {
        var random = MesosRandomValues(seed: 7)
        for _ in 0..<100 {
            try FastCodecCheck.roundTrip(random.task())
            try FastCodecCheck.roundTrip(random.status())
            try FastCodecCheck.roundTrip(random.offer())
            try FastCodecCheck.roundTrip(random.frameworkInfo())
            try FastCodecCheck.roundTrip(random.masterInfo())
            try FastCodecCheck.roundTrip(random.attribute())
            try FastCodecCheck.roundTrip(random.resource())
            try FastCodecCheck.roundTrip(random.resources())
            try FastCodecCheck.roundTrip(random.healthCheck())
            try FastCodecCheck.roundTrip(random.container())
        }
    }

    // MARK: Malformed input

    @Test func everyTruncationThrowsFoundationsError() throws {
        var random = MesosRandomValues(seed: 11)
        var call = random.agentCall()
        while call.type != .update { call = random.agentCall() }
        let bytes = Array(try MesosJSON.encode(call))
        for end in 0..<bytes.count {
            FastCodecCheck.sameOutcome(AgentCall.self, Array(bytes[..<end]))
        }
        let event = try MesosJSON.encode(SchedulerEvent.offers([random.offer()]))
        for end in stride(from: 0, to: event.count, by: 3) {
            FastCodecCheck.sameOutcome(SchedulerEvent.self, Array(event[..<end]))
        }
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func mutatedDocumentsNeverDecodeDifferently(seed: UInt64) throws {
        var random = MesosRandomValues(seed: seed)
        let replacements = Array(#"{}[]",:"\ 0123456789-+.eEtrufalsn/u_A"#.utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xFF]
        for round in 0..<300 {
            var bytes: [UInt8]
            switch round % 4 {
            case 0: bytes = Array(try MesosJSON.encode(random.agentCall()))
            case 1: bytes = Array(try MesosJSON.encode(random.agentMessage()))
            case 2: bytes = Array(try MesosJSON.encode(random.schedulerCall()))
            default: bytes = Array(try MesosJSON.encode(random.schedulerEvent()))
            }
            for _ in 0..<random.count(1...3) where !bytes.isEmpty {
                let position = random.count(0...(bytes.count - 1))
                let byte = replacements.randomElement(using: &random.random)!
                switch random.count(0...2) {
                case 0: bytes[position] = byte
                case 1: bytes.insert(byte, at: position)
                default: bytes.remove(at: position)
                }
            }
            switch round % 4 {
            case 0: FastCodecCheck.sameOutcome(AgentCall.self, bytes)
            case 1: FastCodecCheck.sameOutcome(AgentMessage.self, bytes)
            case 2: FastCodecCheck.sameOutcome(SchedulerCall.self, bytes)
            default: FastCodecCheck.sameOutcome(SchedulerEvent.self, bytes)
            }
        }
    }

    @Test(arguments: [
        #"{"type":"UPDATE","update":{"framework_id":{"value":1},"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING"}}}"#,
        #"{"type":"UPDATE","update":{"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"},"state":"RUNNING"}}}"#,
        #"{"type":"UPDATE","update":{"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"},"state":99}}}"#,
        #"{"type":"UPDATE","update":{"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"},"state":1.5}}}"#,
        #"{"type":"UPDATE","update":{"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"}}}}"#,
        #"{"type":"UPDATE","update":{"framework_id":{"value":"f"},"status":{"task_id":null,"state":"TASK_RUNNING"}}}"#,
        #"{"type":"UPDATE","update":{"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","timestamp":"1"}}}"#,
        #"{"type":"UPDATE","update":{"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","healthy":1}}}"#,
        #"{"type":"UPDATE","update":{"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","timestamp":1e400}}}"#,
        #"{"type":"UPDATE","update":{"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","timestamp":5e-324}}}"#,
        #"{"type":"UPDATE","update":{"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","message":"\x"}}}"#,
        #"{"type":"UPDATE","update":{"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","message":"\ud800"}}}"#,
        #"{"type":"UPDATE","update":{"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","message":"\udc00\ud800"}}}"#,
        #"{"type":"UPDATE","update":{"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","message":"\u12"}}}"#,
        #"{"type":"PONG","agent_id":{"value":"a"},"agentId":{"value":"b"}}"#,
        #"{"type":"PONG","agent_id":{"value":"a"},"AGENT_ID":{"value":"b"}}"#,
        #"{"type":"PONG","agentId":{"value":"b"}}"#,
        #"{"type":"PONG","agent__id":{"value":"b"}}"#,
        #"{"type":"PONG","agent_id":{"value":"a"},"agent_id":{"value":"b"}}"#,
        #"{"type":"PONG","agent_id":null,"agent_id":{"value":"b"}}"#,
        #"{"type":"PONG","agent_id":{"value":"a"},"x":01}"#,
        #"{"type":"PONG","agent_id":{"value":"a"},"x":1.}"#,
        #"{"type":"PONG","agent_id":{"value":"a"},"x":-}"#,
        #"{"type":"PONG","agent_id":{"value":"a"},"x":+1}"#,
        #"{"type":"PONG","agent_id":{"value":"a"},"x":.5}"#,
        #"{"type":"PONG","agent_id":{"value":"a"},"x":1e}"#,
        #"{"type":"PONG","agent_id":{"value":"a"},"x":tru}"#,
        #"{"type":"PONG","agent_id":{"value":"a"},"x":[1,]}"#,
        #"{"type":"PONG","agent_id":{"value":"a"},}"#,
        #"{"type":"PONG","agent_id":{"value":"a"}} x"#,
        #"{"type":"PONG","agent_id":{"value":"a"}}{}"#,
        #"{"type":"PONG" "agent_id":{"value":"a"}}"#,
        #"{"type":"PONG","agent_id" {"value":"a"}}"#,
        #"{'type':'PONG'}"#,
        #"{"type":"PING"}"#,
        #"[]"#, #""PONG""#, "", " ", "null", "{", "}",
        #"{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h","resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]},"tasks":[]}}"#,
        #"{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h","resources":[{"name":"","type":"SCALAR","scalar":{"value":1}}]},"tasks":[]}}"#,
        #"{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h","resources":[{"name":"p","type":"RANGES","ranges":{"range":[{"begin":5,"end":3}]}}]},"tasks":[]}}"#,
        #"{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h","resources":[{"name":"p","type":"RANGES","ranges":{"range":[{"begin":-1,"end":3}]}}]},"tasks":[]}}"#,
        #"{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h","resources":[{"name":"p","type":"SCALAR","scalar":{"value":1}},{"name":"p","type":"SET","set":{"item":[]}}]},"tasks":[]}}"#,
        #"{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h","port":1.0,"resources":[]},"tasks":[]}}"#,
        #"{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h","port":99999999999999999999,"resources":[]},"tasks":[]}}"#,
        #"{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h","resources":[]},"tasks":[{"framework_id":{"value":"f"},"state":"TASK_RUNNING"}]}}"#,
        #"{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h","resources":[],"attributes":[{"name":"a","type":"TEXT"}]},"tasks":[]}}"#,
        #"{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h","resources":[],"attributes":[{"name":"a","type":"FOO"}]},"tasks":[]}}"#,
    ])
    func malformedAgentCallsThrowFoundationsError(json: String) {
        FastCodecCheck.sameOutcome(AgentCall.self, Array(json.utf8))
    }

    @Test func invalidUTF8AndControlCharactersThrowFoundationsError() {
        let prefix = Array(#"{"type":"PONG","agent_id":{"value":"a"#.utf8)
        let suffix = Array(#""}}"#.utf8)
        for bad: [UInt8] in [
            [0xFF], [0xC3], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x01],
            [0x1F], [0x0A],
        ] {
            FastCodecCheck.sameOutcome(AgentCall.self, prefix + bad + suffix)
        }
        // A BOM, and UTF-16, which Foundation decodes and the fast reader leaves to it.
        FastCodecCheck.sameOutcome(AgentCall.self, [0xEF, 0xBB, 0xBF] + Array(#"{"type":"PONG"}"#.utf8))
        FastCodecCheck.sameOutcome(
            AgentCall.self,
            Array(Data(#"{"type":"PONG"}"#.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }))
        )
    }

    @Test(arguments: [10, 255, 300, 511, 600, 5000])
    func deepNestingIsRefusedOrLeftToFoundation(depth: Int) throws {
        let json =
            #"{"type":"PONG","x":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        FastCodecCheck.sameOutcome(AgentCall.self, Array(json.utf8))
        let objects =
            #"{"type":"PONG","x":"# + String(repeating: #"{"a":"#, count: depth) + "1"
            + String(repeating: "}", count: depth) + "}"
        FastCodecCheck.sameOutcome(AgentCall.self, Array(objects.utf8))
        if depth >= JSONReader.maximumDepth {
            #expect(throws: JSONReadError.self) { try FastCodecCheck.fastOnly(AgentCall.self, Array(json.utf8)) }
        }
    }

    @Test func fastPathErrorsNameThePath() throws {
        let json =
            #"{"type":"UPDATE","update":{"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","timestamp":"x"}}}"#
        let error = #expect(throws: JSONReadError.self) {
            try FastCodecCheck.fastOnly(AgentCall.self, Array(json.utf8))
        }
        #expect(error?.path == "/update/status/timestamp")
        #expect(error?.description.contains("expected a number") == true, "\(error?.description ?? "")")
        let missing = #"{"type":"UPDATE","update":{"framework_id":{"value":"f"},"status":{"state":"TASK_RUNNING"}}}"#
        let missingError = #expect(throws: JSONReadError.self) {
            try FastCodecCheck.fastOnly(AgentCall.self, Array(missing.utf8))
        }
        #expect(missingError?.path == "/update/status")
        #expect(missingError?.message == "the key 'task_id' is required")
        let list = #"{"type":"OFFERS","offers":{"offers":[{"id":{"value":"o"}},{"id":5}]}}"#
        let listError = #expect(throws: JSONReadError.self) {
            try FastCodecCheck.fastOnly(SchedulerEvent.self, Array(list.utf8))
        }
        #expect(listError?.path == "/offers/offers/0", "\(listError?.description ?? "")")
    }

    @Test func nonFiniteDoublesThrowFoundationsEncodingError() {
        let event = SchedulerEvent.update(TaskStatus(taskId: "t", state: .running, timestamp: .nan))
        #expect(throws: EncodingError.self) { try MesosJSON.encodeFast(event) }
        #expect(throws: EncodingError.self) { try MesosJSON.encodeFast(event, orWith: MesosJSON.encoder()) }
    }

    @Test func genericEncodingUsesTheFastWriterOrTheEncoder() throws {
        let message = AgentMessage.kill(.init(frameworkId: "f", taskId: "t", killPolicy: nil))
        #expect(
            try FastCodecCheck.sameDocument(
                MesosJSON.encodeFast(message, orWith: MesosJSON.encoder()),
                Array(MesosJSON.encode(message))
            )
        )
        let plain = ["a": 1]
        #expect(try MesosJSON.encodeFast(plain, orWith: MesosJSON.encoder()) == Array(try MesosJSON.encode(plain)))
    }
}
