// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Writes an ``EventBus`` subscription as a server-sent event stream (the body of `GET /v2/events`).
enum EventStream {
    /// Writes the subscription's frames until it finishes or a write fails (the client went away), with a
    /// keep-alive comment every `heartbeat` so a dead connection is noticed even when no events flow.
    /// - Parameters:
    ///   - heartbeat: time between keep-alive comments.
    ///   - write: writes one frame to the client; throws once the client is gone.
    static func pump(
        _ subscription: EventBus.Subscription,
        heartbeat: Duration,
        write: (ServerSentEvent) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while true {
                    try await Task.sleep(for: heartbeat)
                    subscription.heartbeat()
                }
            }
            for await frame in subscription.events {
                try await write(frame)
            }
            group.cancelAll()
        }
    }

    /// The event types asked for with `?event_type=` (repeated, or comma-separated); empty means all.
    static func eventTypes(_ values: some Sequence<String>) -> Set<String> {
        Set(
            values.flatMap { $0.split(separator: ",") }
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        )
    }

    /// Whether an `Accept` header value admits `text/event-stream`.
    static func accepts(_ accept: String?) -> Bool {
        guard let accept else { return false }
        return accept.split(separator: ",").contains { part in
            let type = part.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            return type == "text/event-stream"
        }
    }
}
