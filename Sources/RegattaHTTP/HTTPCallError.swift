// SPDX-License-Identifier: Apache-2.0

/// Why an ``HTTPCallClient`` call failed.
///
/// ``mayHaveReachedServer`` tells whether the server may have received (and acted on) the request: the client never
/// sends such a request again by itself, so the caller decides whether re-sending it is safe.
public struct HTTPCallError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Kind: Sendable, Equatable {
        /// No connection to the server could be opened (refused, unreachable, connect timeout). Not sent.
        case connectFailed
        /// The connection closed or failed after the request was written; the server may have received it.
        case connectionLost
        /// No complete response arrived before the call's deadline. The server may have received the request.
        case deadlineExceeded
        /// The response body is larger than ``HTTPCallClient/Configuration/maximumResponseBodyBytes``.
        case responseTooLarge
        /// The server's bytes are not a valid HTTP/1.1 response; the connection was closed.
        case invalidResponse
        /// The client was shut down before the call completed.
        case shutDown
    }

    /// The kind of failure.
    public var kind: Kind
    /// Whether the server may have received the request (it was written to a connection).
    public var mayHaveReachedServer: Bool
    /// What happened, naming the server and what to do.
    public var message: String

    /// An error of `kind` with `message`.
    public init(_ kind: Kind, mayHaveReachedServer: Bool, _ message: String) {
        self.kind = kind
        self.mayHaveReachedServer = mayHaveReachedServer
        self.message = message
    }

    public var description: String { self.message }
}
