// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOHTTP1

/// One call of an ``HTTPCallClient``, from submission to its response; lives on the client's event loop.
final class HTTPCall {
    let request: HTTPCallRequest
    private let promise: EventLoopPromise<HTTPCallResponse>
    /// The deadline's timer, cancelled when the call completes.
    var deadline: Scheduled<Void>?
    /// The connection the call was written to; `nil` while it waits (never written).
    var connection: HTTPCallConnection?
    /// The response head, once received.
    var head: HTTPResponseHead?
    /// The response body received so far.
    var body = ByteBuffer()
    /// Whether the promise is completed (answered, failed, expired or abandoned).
    private(set) var isDone = false

    init(request: HTTPCallRequest, promise: EventLoopPromise<HTTPCallResponse>) {
        self.request = request
        self.promise = promise
    }

    /// `POST /path`, for messages.
    var summary: String { "\(self.request.method.rawValue) \(self.request.path)" }

    /// Completes the call once; later completions are ignored.
    func complete(_ result: Result<HTTPCallResponse, any Error>) {
        guard !self.isDone else { return }
        self.isDone = true
        self.deadline?.cancel()
        self.deadline = nil
        self.body = ByteBuffer()
        self.promise.completeWith(result)
    }
}
