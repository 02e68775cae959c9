// SPDX-License-Identifier: Apache-2.0
import CZooKeeper

/// One asynchronous C call in flight. A retained reference is the call's `data` pointer; the C client calls the
/// completion exactly once (with `ZCLOSING` when the handle closes first), which takes the reference back.
final class Completion<Value: Sendable>: Sendable {
    let operation: String
    let path: String
    /// The watch the call registers, if any; dropped when the call fails, because then it was never registered.
    let watch: PendingWatch?
    private let continuation: CheckedContinuation<Value, any Error>

    init(operation: String, path: String, watch: PendingWatch?, continuation: CheckedContinuation<Value, any Error>) {
        self.operation = operation
        self.path = path
        self.watch = watch
        self.continuation = continuation
    }

    /// Takes back the reference handed to the C call. Called once, by the completion callback.
    static func take(_ data: UnsafeRawPointer?) -> Completion<Value> {
        Unmanaged<Completion<Value>>.fromOpaque(data!).takeRetainedValue()
    }

    func succeed(_ value: Value) {
        self.continuation.resume(returning: value)
    }

    /// Fails with the error for C return code `rc` (`ZOK` here means the C client returned no result).
    func fail(_ rc: Int32) {
        let error = ZooKeeperError(
            returnCode: rc == ZOK.rawValue ? ZSYSTEMERROR.rawValue : rc,
            operation: self.operation,
            path: self.path
        )
        self.watch?.discard(error)
        self.continuation.resume(throwing: error)
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
