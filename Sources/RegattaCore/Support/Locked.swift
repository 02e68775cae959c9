// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// A value behind a mutex, shareable across tasks and threads.
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) {
        self.mutex = Mutex(value)
    }

    /// Runs `body` with exclusive access to the value.
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try self.mutex.withLock { try body(&$0) }
    }

    /// The current value.
    public var value: Value { self.mutex.withLock { $0 } }
}
