// SPDX-License-Identifier: Apache-2.0
import CZooKeeper
import Synchronization

/// One asynchronous C call in flight. A retained reference is the call's `data` pointer; the completion callback
/// takes it back.
///
/// libzookeeper-mt 3.8 does not call every pending completion when the handle is closed (calls still queued at
/// `zookeeper_close` are dropped), so each call is also listed in its client's ``CallRegistry``: after the handle
/// is closed, the calls the C client never completed fail with `.closed` and give back their reference.
final class Completion<Value: Sendable>: Sendable {
    let id: UInt64
    let operation: String
    let path: String?
    /// The watch the call registers, if any; dropped when the call fails, because then it was never registered.
    let watch: PendingWatch?
    private let registry: CallRegistry
    /// Taken exactly once: by the completion callback, a failed submission, or the registry after close.
    private let continuation: Mutex<CheckedContinuation<Value, any Error>?>

    init(
        id: UInt64,
        operation: String,
        path: String?,
        watch: PendingWatch?,
        registry: CallRegistry,
        continuation: CheckedContinuation<Value, any Error>
    ) {
        self.id = id
        self.operation = operation
        self.path = path
        self.watch = watch
        self.registry = registry
        self.continuation = Mutex(continuation)
    }

    /// Takes back the reference handed to the C call. Called once, by the completion callback.
    static func take(_ data: UnsafeRawPointer?) -> Completion<Value> {
        Unmanaged<Completion<Value>>.fromOpaque(data!).takeRetainedValue()
    }

    func succeed(_ value: Value) {
        self.resume(with: .success(value))
    }

    /// Fails with the error for C return code `rc` (`ZOK` here means the C client returned no result).
    func fail(_ rc: Int32) {
        let error = ZooKeeperError(
            returnCode: rc == ZOK.rawValue ? ZSYSTEMERROR.rawValue : rc,
            operation: self.operation,
            path: self.path
        )
        self.watch?.discard(error)
        self.resume(with: .failure(error))
    }

    /// Fails a call the C client will never complete, because its handle is gone.
    func abandon(_ error: ZooKeeperError) {
        self.watch?.discard(error)
        self.resume(with: .failure(error))
    }

    private func resume(with result: Result<Value, ZooKeeperError>) {
        self.registry.remove(self.id)
        let continuation = self.continuation.withLock { continuation in
            defer { continuation = nil }
            return continuation
        }
        continuation?.resume(with: result.mapError { $0 as any Error })
    }
}

/// A call that may still be waiting for its C completion.
protocol InFlightCall: AnyObject, Sendable {
    var operation: String { get }
    var path: String? { get }
    func abandon(_ error: ZooKeeperError)
    /// Balances the reference lent to a C call that will never be completed.
    func releaseCReference()
}

extension Completion: InFlightCall {
    func releaseCReference() {
        Unmanaged.passUnretained(self).release()
    }
}

/// Lists one client's calls that the C client has accepted but not yet completed.
final class CallRegistry: Sendable {
    private struct State {
        var calls: [UInt64: any InFlightCall] = [:]
        var nextID: UInt64 = 0
    }
    private let state = Mutex(State())

    func make<Value: Sendable>(
        operation: String,
        path: String?,
        watch: PendingWatch?,
        continuation: CheckedContinuation<Value, any Error>
    ) -> Completion<Value> {
        self.state.withLock { state in
            let completion = Completion(
                id: state.nextID,
                operation: operation,
                path: path,
                watch: watch,
                registry: self,
                continuation: continuation
            )
            state.calls[state.nextID] = completion
            state.nextID += 1
            return completion
        }
    }

    func remove(_ id: UInt64) {
        // Dropped outside the lock: the call's last reference may go here.
        let removed = self.state.withLock { $0.calls.removeValue(forKey: id) }
        _ = removed
    }

    var count: Int { self.state.withLock { $0.calls.count } }

    /// After the handle is closed (no C callback can run any more): fails every call the C client dropped and
    /// gives back the reference each one lent to the C call.
    func abandonAll() {
        let calls = self.state.withLock { state -> [any InFlightCall] in
            let calls = Array(state.calls.values)
            state.calls.removeAll()
            return calls
        }
        for call in calls {
            call.releaseCReference()
            call.abandon(.closed(operation: call.operation, path: call.path))
        }
    }
}

/// Copies a C string vector (owned by the C client, freed after the callback returns).
func copyStrings(_ vector: UnsafePointer<String_vector>?) -> [String] {
    guard let vector, let data = vector.pointee.data else { return [] }
    return (0..<Int(vector.pointee.count)).compactMap { index in data[index].map { String(cString: $0) } }
}

/// Copies node data (owned by the C client); a null buffer or negative length is empty data.
func copyBytes(_ value: UnsafePointer<CChar>?, count: Int32) -> [UInt8] {
    guard let value, count > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: value, count: Int(count)))
}
