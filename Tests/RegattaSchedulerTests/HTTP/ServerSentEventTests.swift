// SPDX-License-Identifier: Apache-2.0
import RegattaScheduler
import Testing

@Suite struct ServerSentEventTests {
    @Test func eventIsFramedWithTypeDataAndBlankLine() {
        // Given
        let event = ServerSentEvent.event(type: "api_post_event", data: #"{"eventType":"api_post_event"}"#)
        // Then
        #expect(event.encoded == "event: api_post_event\ndata: {\"eventType\":\"api_post_event\"}\n\n")
        #expect(event.type == "api_post_event")
    }

    @Test func multiLineDataBecomesOneDataFieldPerLine() {
        let event = ServerSentEvent.event(type: "x", data: "a\nb\r\nc")
        #expect(event.encoded == "event: x\ndata: a\ndata: b\ndata: c\n\n")
    }

    @Test func lineBreaksCannotForgeFieldsThroughTheType() {
        let event = ServerSentEvent.event(type: "x\ndata: forged", data: "{}")
        #expect(event.encoded == "event: xdata: forged\ndata: {}\n\n")
    }

    @Test func heartbeatIsACommentClientsIgnore() {
        #expect(ServerSentEvent.heartbeat.encoded == ": heartbeat\n\n")
        #expect(ServerSentEvent.heartbeat.type == nil)
        #expect(ServerSentEvent.comment("a\nb").encoded == ": a\n: b\n\n")
    }
}
