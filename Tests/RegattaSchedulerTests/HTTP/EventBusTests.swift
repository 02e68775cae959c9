// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaScheduler

/// Reads up to `count` frames (or until the stream ends).
func collect(_ events: AsyncStream<ServerSentEvent>, _ count: Int = .max) async -> [ServerSentEvent] {
    var frames: [ServerSentEvent] = []
    for await frame in events {
        frames.append(frame)
        if frames.count == count { break }
    }
    return frames
}

/// The JSON payload of an event frame.
func payload(_ frame: ServerSentEvent) throws -> [String: Any] {
    guard case .event(_, let data) = frame else {
        Issue.record("not an event: \(frame)")
        return [:]
    }
    return try #require(try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any])
}

@Suite struct EventBusTests {
    static let epoch = Date(timeIntervalSince1970: 1_800_000_000.25)

    func bus(bufferSize: Int = 1024) -> EventBus {
        var configuration = EventBus.Configuration()
        configuration.subscriberBufferSize = bufferSize
        return EventBus(configuration: configuration, wallClock: { Self.epoch })
    }

    @Test func deliversEventsWithEventTypeAndTimestamp() async throws {
        // Given
        let bus = self.bus()
        let subscription = bus.subscribe()
        // When
        bus.publish(.deploymentSuccess(Deployment(id: "d1", appId: "/web", version: "v1", action: "ScaleApplication")))
        subscription.finish()
        // Then
        let frames = await collect(subscription.events)
        #expect(frames.count == 1)
        #expect(frames.first?.type == "deployment_success")
        let json = try payload(try #require(frames.first))
        #expect(json["eventType"] as? String == "deployment_success")
        #expect(json["timestamp"] as? String == "2027-01-15T08:00:00.250Z")
        #expect(json["id"] as? String == "d1")
    }

    @Test func filtersByEventType() async throws {
        // Given a subscriber of deployment_info only and one of everything
        let bus = self.bus()
        let filtered = bus.subscribe(eventTypes: ["deployment_info"])
        let all = bus.subscribe()
        let deployment = Deployment(id: "d1", appId: "/web", version: "v1", action: "StartApplication")
        // When
        bus.publish(.apiPost(Fixture.app(), uri: "/v2/apps", clientIP: "127.0.0.1"))
        bus.publish(.deploymentInfo(deployment))
        bus.publish(.deploymentSuccess(deployment))
        filtered.finish()
        all.finish()
        // Then
        #expect(await collect(filtered.events).map(\.type) == ["deployment_info"])
        #expect(await collect(all.events).map(\.type) == ["api_post_event", "deployment_info", "deployment_success"])
    }

    @Test func subscriberThatFallsAFullBufferBehindIsDropped() async throws {
        // Given a subscriber with room for 3 events that reads nothing, and another
        let bus = self.bus(bufferSize: 3)
        let slow = bus.subscribe()
        let other = bus.subscribe(eventTypes: ["nothing"])
        // When 10 events are published
        for index in 0..<10 {
            bus.publish(
                .healthStatusChanged(appId: "/web", instanceId: "web.instance-\(index)", version: "v1", alive: true)
            )
        }
        // Then its stream ends after the 3 it had room for (never thinned), it is unsubscribed, and publishing never
        // waited for it
        let ids = try await collect(slow.events).map { try payload($0)["instanceId"] as? String }
        #expect(ids == ["web.instance-0", "web.instance-1", "web.instance-2"])
        #expect(bus.droppedSubscriberCount == 1)
        #expect(bus.subscriberCount == 1)
        // (the fourth event found it full and dropped it; nobody took the six after)
        #expect(bus.publishedEventCount == 4)
        other.finish()
    }

    @Test func subscribeWithinLimitRefusesOverTheCap() {
        // Given a bus admitting 2 subscribers, both taken
        var configuration = EventBus.Configuration()
        configuration.maximumSubscribers = 2
        let bus = EventBus(configuration: configuration)
        let first = bus.subscribeWithinLimit()
        let second = bus.subscribeWithinLimit()
        // When a third asks
        let third = bus.subscribeWithinLimit()
        // Then it is refused; once one leaves, there is room again
        #expect(first != nil && second != nil)
        #expect(third == nil)
        first?.finish()
        #expect(bus.subscribeWithinLimit() != nil)
        second?.finish()
    }

    @Test func rendersNothingWithoutSubscribers() {
        // Given
        let bus = self.bus()
        // When
        bus.publish(.deploymentInfo(Deployment(id: "d1", appId: "/web", version: "v1", action: "StartApplication")))
        // Then
        #expect(bus.publishedEventCount == 0)
        #expect(bus.subscriberCount == 0)
    }

    @Test func finishingOrCancellingUnsubscribes() async throws {
        // Given
        let bus = self.bus()
        let first = bus.subscribe()
        let second = bus.subscribe()
        #expect(bus.subscriberCount == 2)
        // When one finishes
        first.finish()
        // Then
        #expect(bus.subscriberCount == 1)
        // When the task reading the other is cancelled
        let reader = Task { await collect(second.events) }
        reader.cancel()
        _ = await reader.value
        // Then
        #expect(bus.subscriberCount == 0)
    }

    @Test func heartbeatGoesThroughTheSubscription() async {
        let bus = self.bus()
        let subscription = bus.subscribe(eventTypes: ["deployment_info"])
        subscription.heartbeat()
        subscription.finish()
        #expect(await collect(subscription.events) == [.heartbeat])
    }

    @Test func streamAttachedAndDetachedCarryTheRemoteAddress() async throws {
        let bus = self.bus()
        let subscription = bus.subscribe()
        bus.publishStreamAttached(remoteAddress: "10.0.0.1")
        bus.publishStreamDetached(remoteAddress: "10.0.0.2")
        subscription.finish()
        let frames = await collect(subscription.events)
        #expect(frames.map(\.type) == ["event_stream_attached", "event_stream_detached"])
        #expect(try payload(frames[0])["remoteAddress"] as? String == "10.0.0.1")
        #expect(try payload(frames[1])["remoteAddress"] as? String == "10.0.0.2")
    }

    @Test func finishAllEndsEverySubscription() async {
        let bus = self.bus()
        let subscriptions = (0..<3).map { _ in bus.subscribe() }
        bus.finishAll()
        for subscription in subscriptions {
            #expect(await collect(subscription.events).isEmpty)
        }
        #expect(bus.subscriberCount == 0)
    }
}
