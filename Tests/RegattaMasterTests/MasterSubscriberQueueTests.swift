// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

/// Subscribers that stop reading are disconnected once `maxSubscriberQueue` events wait for them; the others keep
/// their streams. Operator streams are capped by `maxOperatorSubscribers`.
@Suite struct MasterSubscriberQueueTests {
    static func master(queue: Int, operators: Int = 128) -> Master {
        var configuration = MasterConfiguration()
        configuration.maxSubscriberQueue = queue
        configuration.maxOperatorSubscribers = operators
        return Master(
            configuration: configuration,
            masterID: "m",
            logger: Logger(label: "test"),
            uptime: { .seconds(5) },
            wallTime: { 1_763_767_000.5 }
        )
    }

    @Test func frameworkThatStopsReadingIsDisconnectedAndOthersKeepTheirStreams() async throws {
        // Given two frameworks with room for 4 unread events each: one reads its stream, the other never does
        let master = Self.master(queue: 4)
        let (stalled, _, stalledStream) = try await master.subscribe(
            .init(frameworkInfo: Fixture.framework(name: "stalled"))
        )
        let (reader, _, readerStream) = try await master.subscribe(
            .init(frameworkInfo: Fixture.framework(name: "reader"))
        )
        var readerEvents = readerStream.makeAsyncIterator()
        // When more heartbeats are sent than the queue holds, the reader taking each one
        for _ in 0..<10 {
            await master.heartbeat()
            _ = await readerEvents.next()
        }
        // Then the stalled framework's stream ends after the 4 events it had room for (never thinned), and it is
        // disconnected as when its connection drops, while the reader stays connected
        var received = 0
        for await _ in stalledStream { received += 1 }
        #expect(received == 4)
        let state = await master.snapshot
        #expect(state.frameworks[stalled]?.isConnected == false)
        #expect(state.frameworks[reader]?.isConnected == true)
        // And the reader still gets events
        await master.heartbeat()
        #expect(await readerEvents.next()?.type != nil)
    }

    @Test func operatorSubscribersAreCappedAndOneThatStopsReadingIsDropped() async throws {
        // Given room for one operator stream, with 3 unread events, taken by a subscriber that never reads
        let master = Self.master(queue: 3, operators: 1)
        let first = await master.subscribeOperator()
        #expect(first != nil)
        // When a second subscriber asks
        let second = await master.subscribeOperator()
        // Then it is refused
        #expect(second == nil)
        // When the first falls behind by more than its queue
        for _ in 0..<5 { await master.heartbeat() }
        // Then its stream ends, and its place is free again
        var received = 0
        if let stream = first?.1 {
            for await _ in stream { received += 1 }
        }
        #expect(received == 3)
        #expect(await master.subscribeOperator() != nil)
    }
}
