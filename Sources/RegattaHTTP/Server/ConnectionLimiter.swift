// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// Counts a listener's open connections against a cap.
public final class ConnectionLimiter: Sendable {
    /// What ``open()`` decided.
    public enum Decision: Equatable, Sendable {
        /// The connection may be served; call ``close()`` when it closes.
        case accepted
        /// The cap is reached: close the connection. `first` is true for the first refusal since the count was last
        /// below the cap (log it once, not per connection).
        case refused(first: Bool)
    }

    private struct State {
        var open = 0
        var refused = 0
        var atCapacity = false
    }

    /// The cap.
    public let maximum: Int
    private let state = Mutex(State())

    public init(maximum: Int) {
        self.maximum = max(1, maximum)
    }

    /// Counts a new connection, unless the cap is reached.
    public func open() -> Decision {
        self.state.withLock { state in
            guard state.open < self.maximum else {
                state.refused += 1
                let first = !state.atCapacity
                state.atCapacity = true
                return .refused(first: first)
            }
            state.open += 1
            return .accepted
        }
    }

    /// An accepted connection closed.
    public func close() {
        self.state.withLock { state in
            state.open -= 1
            if state.open < self.maximum { state.atCapacity = false }
        }
    }

    /// Connections open now.
    public var openConnections: Int { self.state.withLock { $0.open } }

    /// Connections refused so far because the cap was reached.
    public var refusedConnections: Int { self.state.withLock { $0.refused } }
}
