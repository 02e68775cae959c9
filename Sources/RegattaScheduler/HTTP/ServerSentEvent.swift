// SPDX-License-Identifier: Apache-2.0

/// One frame of a `text/event-stream` response (the SSE wire format that `/v2/events` speaks).
///
/// An event is written as `event: <type>\ndata: <line>\n…\n\n`; a comment (used as a keep-alive) as `: <text>\n\n`,
/// which SSE clients ignore.
public enum ServerSentEvent: Sendable, Hashable {
    /// A named event with its payload (Marathon sends one line of JSON).
    case event(type: String, data: String)
    /// A comment line: ignored by clients, it keeps the connection busy so a dead peer is noticed.
    case comment(String)

    /// The keep-alive frame sent while no events flow.
    public static let heartbeat = ServerSentEvent.comment("heartbeat")

    /// The frame as it goes on the wire, terminated by the blank line that dispatches it.
    public var encoded: String {
        switch self {
        case .event(let type, let data):
            // A payload line may not contain a line break: each line becomes its own `data:` field.
            var text = "event: \(Self.singleLine(type))\n"
            for line in Self.lines(data) {
                text += "data: \(line)\n"
            }
            return text + "\n"
        case .comment(let text):
            return Self.lines(text).map { ": \($0)\n" }.joined() + "\n"
        }
    }

    /// The event type, or `nil` for a comment.
    public var type: String? {
        if case .event(let type, _) = self { return type }
        return nil
    }

    private static func lines(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
    }

    private static func singleLine(_ text: String) -> String {
        String(text.filter { $0 != "\n" && $0 != "\r" && $0 != "\r\n" })
    }
}
