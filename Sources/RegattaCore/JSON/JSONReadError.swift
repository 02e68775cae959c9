// SPDX-License-Identifier: Apache-2.0

/// Why ``JSONReader`` could not read a document: a syntax error, a value of the wrong type, a missing or repeated key,
/// or input the fast path leaves to Foundation (see ``MesosJSON/decodeFast(_:from:)-(_,UnsafeRawBufferPointer)``).
public struct JSONReadError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, e.g. `expected a string`.
    public var message: String
    /// The byte offset in the document where the problem was found.
    public var offset: Int
    /// The JSON path of the value being read, e.g. `/update/status/task_id`; empty until the reader's top-level entry
    /// point fills it in.
    public var path: String

    public init(_ message: String, offset: Int, path: String = "") {
        self.message = message
        self.offset = offset
        self.path = path
    }

    public var description: String {
        "Invalid JSON at \(self.path.isEmpty ? "/" : self.path) (byte \(self.offset)): \(self.message)"
    }
}
