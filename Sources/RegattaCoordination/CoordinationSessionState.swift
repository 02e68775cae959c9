// SPDX-License-Identifier: Apache-2.0

/// The state of a coordination session (ZooKeeper's session states).
///
/// A session starts `connecting`, becomes `connected`, may drop back to `connecting` while the client fails over to
/// another server (candidacies and watches survive that), and ends `expired`, `authenticationFailed` or `closed`.
/// The three end states are final: the session cannot be used again.
public enum CoordinationSessionState: Hashable, Sendable, CustomStringConvertible {
    /// Not connected to any server; the client is trying (also after a disconnect).
    case connecting
    /// Connected with a live session.
    case connected
    /// The server expired the session: its candidacies and watches are gone.
    case expired
    /// The server rejected the credentials.
    case authenticationFailed
    /// The client was closed.
    case closed

    /// Whether the session can never become connected again.
    public var isTerminal: Bool {
        switch self {
        case .connecting, .connected: false
        case .expired, .authenticationFailed, .closed: true
        }
    }

    /// A lower-case name for logs.
    public var description: String {
        switch self {
        case .connecting: "connecting"
        case .connected: "connected"
        case .expired: "expired"
        case .authenticationFailed: "authentication failed"
        case .closed: "closed"
        }
    }
}
