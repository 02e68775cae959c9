// SPDX-License-Identifier: Apache-2.0
import RegattaHTTP

/// The master's end of one subscriber's event stream (a framework's, an agent's or an operator's), with a bounded
/// queue of events the subscriber has not read yet.
///
/// The protocols need every event, so a subscriber that falls `limit` events behind is not thinned: its stream is
/// finished and its connection closed (a write waiting for a client that stopped reading would never notice the
/// stream ending), and the master treats it as disconnected.
struct SubscriberStream<Element: Sendable>: Sendable {
    private let continuation: AsyncStream<Element>.Continuation
    /// The connection the subscription arrived on (the request being handled when the stream was made).
    private let connection: ServerConnection?

    /// Makes a stream holding at most `limit` unread events.
    static func make(limit: Int) -> (AsyncStream<Element>, SubscriberStream) {
        let (stream, continuation) = AsyncStream.makeStream(
            of: Element.self,
            bufferingPolicy: .bufferingOldest(max(1, limit))
        )
        return (stream, SubscriberStream(continuation: continuation, connection: ServerConnection.current))
    }

    /// Queues `element`; `false` when the subscriber is too far behind, in which case its stream is finished and its
    /// connection closed.
    @discardableResult
    func yield(_ element: Element) -> Bool {
        switch self.continuation.yield(element) {
        case .enqueued, .terminated:
            return true
        case .dropped:
            self.continuation.finish()
            self.connection?.close()
            return false
        @unknown default:
            return true
        }
    }

    /// Ends the stream after the events already queued.
    func finish() {
        self.continuation.finish()
    }
}
