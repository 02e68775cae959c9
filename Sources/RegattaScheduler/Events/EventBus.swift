// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaHTTP
import Synchronization

/// Marathon's event bus: fans the scheduler's events out to the subscribers of `/v2/events`.
///
/// An event is rendered once (Marathon's JSON with `eventType` and `timestamp`) and handed to every subscriber
/// whose filter takes its type. Each subscriber has its own bounded buffer; a subscriber that falls a full buffer
/// behind (a slow or stalled client) is dropped — its stream ends and its connection is closed — instead of growing
/// the scheduler's memory or silently missing events. It reconnects and reloads what it needs.
/// - Important: ``publish(_:)`` never blocks and does no work when nobody listens: it is called on the
///   scheduler's hot path.
public final class EventBus: MarathonEventSink {
    /// Settings of the bus.
    public struct Configuration: Sendable {
        /// Events buffered per subscriber; one more drops the subscriber. Defaults to `1024`.
        public var subscriberBufferSize = 1024
        /// Subscribers admitted by ``subscribeWithinLimit(eventTypes:)``. Defaults to `128`.
        public var maximumSubscribers = 128
        public init() {}
    }

    /// One subscriber's view of the bus: a stream of SSE frames.
    ///
    /// Cancelling the iterating task, calling ``finish()`` or dropping the stream unsubscribes.
    public struct Subscription: Sendable {
        /// Distinguishes subscribers of one bus.
        public let id: UInt64
        /// The event types this subscriber takes; empty means all.
        public let eventTypes: Set<String>
        /// The frames for this subscriber; it ends when the subscriber falls a full buffer behind.
        public let events: AsyncStream<ServerSentEvent>
        fileprivate let continuation: AsyncStream<ServerSentEvent>.Continuation
        fileprivate let connection: ServerConnection?

        /// Queues a keep-alive comment, so a writer notices a dead connection even when no events flow.
        public func heartbeat() {
            _ = EventBus.deliver(.heartbeat, to: self.continuation, connection: self.connection)
        }

        /// Ends the stream after the frames already buffered and unsubscribes.
        public func finish() {
            self.continuation.finish()
        }
    }

    private struct Subscriber {
        let eventTypes: Set<String>
        let continuation: AsyncStream<ServerSentEvent>.Continuation
        let connection: ServerConnection?

        func takes(_ type: String) -> Bool {
            self.eventTypes.isEmpty || self.eventTypes.contains(type)
        }
    }

    private struct State {
        var subscribers: [UInt64: Subscriber] = [:]
        var nextID: UInt64 = 1
        var dropped = 0
        var published = 0
    }

    /// The bus's settings.
    public let configuration: Configuration
    private let state = Mutex(State())
    private let wallClock: @Sendable () -> Date

    /// Creates a bus.
    /// - Parameters:
    ///   - configuration: buffer sizes.
    ///   - wallClock: the time stamped on events as `timestamp`.
    public init(configuration: Configuration = Configuration(), wallClock: @escaping @Sendable () -> Date = { Date() })
    {
        self.configuration = configuration
        self.wallClock = wallClock
    }

    /// How many subscribers are attached now.
    public var subscriberCount: Int {
        self.state.withLock { $0.subscribers.count }
    }

    /// Subscribers dropped so far because their buffer was full.
    public var droppedSubscriberCount: Int {
        self.state.withLock { $0.dropped }
    }

    /// Events delivered to at least one subscriber so far.
    public var publishedEventCount: Int {
        self.state.withLock { $0.published }
    }

    /// Attaches a subscriber.
    ///
    /// The connection of the request being handled (``ServerConnection/current``), if any, is closed when the
    /// subscriber falls a full buffer behind.
    /// - Parameter eventTypes: the `eventType`s to receive (Marathon's `?event_type=`); empty means all.
    public func subscribe(eventTypes: Set<String> = []) -> Subscription {
        self.subscribe(eventTypes: eventTypes, limit: nil)!
    }

    /// Attaches a subscriber unless ``Configuration/maximumSubscribers`` are attached already (`nil` then).
    public func subscribeWithinLimit(eventTypes: Set<String> = []) -> Subscription? {
        self.subscribe(eventTypes: eventTypes, limit: self.configuration.maximumSubscribers)
    }

    private func subscribe(eventTypes: Set<String>, limit: Int?) -> Subscription? {
        let (stream, continuation) = AsyncStream.makeStream(
            of: ServerSentEvent.self,
            bufferingPolicy: .bufferingOldest(max(1, self.configuration.subscriberBufferSize))
        )
        let connection = ServerConnection.current
        let id = self.state.withLock { state -> UInt64? in
            if let limit, state.subscribers.count >= limit { return nil }
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = Subscriber(
                eventTypes: eventTypes,
                continuation: continuation,
                connection: connection
            )
            return id
        }
        guard let id else { return nil }
        continuation.onTermination = { [weak self] _ in
            self?.remove(id)
        }
        return Subscription(
            id: id,
            eventTypes: eventTypes,
            events: stream,
            continuation: continuation,
            connection: connection
        )
    }

    /// Queues `frame` for one subscriber; `false` when it was a full buffer behind and is dropped now.
    fileprivate static func deliver(
        _ frame: ServerSentEvent,
        to continuation: AsyncStream<ServerSentEvent>.Continuation,
        connection: ServerConnection?
    ) -> Bool {
        guard case .dropped = continuation.yield(frame) else { return true }
        // Its write may be waiting for a client that stopped reading: only closing the connection ends it.
        continuation.finish()
        connection?.close()
        return false
    }

    private func remove(_ id: UInt64) {
        self.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
    }

    /// Publishes a scheduler event (``MarathonEventSink``).
    public func publish(_ event: MarathonEvent) {
        self.publish(type: event.eventType) { event.marathonFields() }
    }

    /// Publishes an event of `type` whose fields are built only if a subscriber takes it.
    /// `eventType` and `timestamp` are added to the fields.
    func publish(type: String, fields: () -> MarathonJSON.Object) {
        let targets = self.state.withLock { state in
            state.subscribers.values.filter { $0.takes(type) }
        }
        guard !targets.isEmpty else { return }
        var object = fields()
        object["eventType"] = type
        object["timestamp"] = MarathonJSON.timestamp(self.wallClock())
        let frame = ServerSentEvent.event(type: type, data: String(decoding: MarathonJSON.data(object), as: UTF8.self))
        var dropped = 0
        for target in targets where !Self.deliver(frame, to: target.continuation, connection: target.connection) {
            dropped += 1
        }
        self.state.withLock { state in
            state.published += 1
            state.dropped += dropped
        }
    }

    /// Publishes `event_stream_attached`: a client subscribed to `/v2/events`.
    public func publishStreamAttached(remoteAddress: String) {
        self.publish(type: "event_stream_attached") { ["remoteAddress": remoteAddress] }
    }

    /// Publishes `event_stream_detached`: a client left `/v2/events`.
    public func publishStreamDetached(remoteAddress: String) {
        self.publish(type: "event_stream_detached") { ["remoteAddress": remoteAddress] }
    }

    /// Ends every subscription (after the frames already buffered), e.g. when the scheduler stops.
    public func finishAll() {
        let continuations = self.state.withLock { $0.subscribers.values.map(\.continuation) }
        for continuation in continuations { continuation.finish() }
    }
}
