// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOHTTP1

/// One keep-alive connection of an ``HTTPCallPool`` and the calls written on it, oldest first (HTTP/1.1 answers
/// in that order); lives on the client's event loop.
final class HTTPCallConnection {
    enum State {
        case connecting
        case active(any Channel)
        case closed
    }

    let id: Int
    private(set) var state = State.connecting
    /// Calls written and not yet answered, in the order they were written.
    private(set) var inFlight = CircularBuffer<HTTPCall>(initialCapacity: 4)
    /// The server announced `Connection: close`: no call is written here any more.
    private var closing = false
    /// The error that closed the connection, for the calls' messages.
    private var failure: (any Error)?
    private unowned let pool: HTTPCallPool

    init(id: Int, pool: HTTPCallPool) {
        self.id = id
        self.pool = pool
    }

    var isConnecting: Bool {
        if case .connecting = self.state { return true }
        return false
    }

    /// Whether a new call may be written: open, not closing, and no abandoned call ahead whose response may never
    /// come.
    var isAccepting: Bool {
        guard case .active = self.state, !self.closing else { return false }
        return !self.inFlight.contains { $0.isDone }
    }

    func connected(_ channel: any Channel) {
        guard case .connecting = self.state else {
            channel.close(promise: nil)
            return
        }
        self.state = .active(channel)
    }

    /// Writes `call`; `false` (nothing written) when the channel is no longer open.
    func write(_ call: HTTPCall) -> Bool {
        guard case .active(let channel) = self.state, channel.isActive else { return false }
        call.connection = self
        self.inFlight.append(call)
        let request = call.request
        var head = HTTPRequestHead(
            version: .http1_1,
            method: request.method,
            uri: request.path,
            headers: request.headers
        )
        if !head.headers.contains(name: "Host") { head.headers.add(name: "Host", value: self.pool.hostHeader) }
        if !head.headers.contains(name: "Content-Length") && !head.headers.contains(name: "Transfer-Encoding") {
            head.headers.add(name: "Content-Length", value: String(request.body.readableBytes))
        }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if request.body.readableBytes > 0 {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(request.body)), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return true
    }

    func received(head: HTTPResponseHead) {
        // 1xx heads (100 Continue) precede the real one.
        if head.status.code / 100 == 1 { return }
        guard let call = self.inFlight.first else {
            self.fail(reason: "The server at \(self.pool.hostHeader) sent a response no request asked for.")
            return
        }
        call.head = head
        if !head.isKeepAlive { self.closing = true }
    }

    func received(body buffer: ByteBuffer) {
        guard let call = self.inFlight.first, !call.isDone else { return }  // Abandoned or too large: discard.
        var buffer = buffer
        if call.body.readableBytes + buffer.readableBytes > self.pool.configuration.maximumResponseBodyBytes {
            call.complete(
                .failure(
                    HTTPCallError(
                        .responseTooLarge,
                        mayHaveReachedServer: true,
                        "The response of \(self.pool.hostHeader) to \(call.summary) is larger than "
                            + "\(self.pool.configuration.maximumResponseBodyBytes) bytes; raise "
                            + "maximumResponseBodyBytes if such responses are expected."
                    )
                )
            )
        } else if call.body.readableBytes == 0 {
            call.body = buffer
        } else {
            call.body.writeBuffer(&buffer)
        }
    }

    func receivedEnd() {
        guard let call = self.inFlight.popFirst() else { return }
        call.connection = nil
        if let head = call.head {
            self.pool.answered()
            call.complete(.success(HTTPCallResponse(status: head.status, headers: head.headers, body: call.body)))
        } else {
            call.complete(
                .failure(
                    HTTPCallError(
                        .invalidResponse,
                        mayHaveReachedServer: true,
                        "The server at \(self.pool.hostHeader) ended a response to \(call.summary) without a head."
                    )
                )
            )
        }
        if self.closing {
            self.close()
        } else if !self.inFlight.isEmpty && self.inFlight.allSatisfy({ $0.isDone }) {
            // Only abandoned calls remain, whose responses may never come: the connection is not worth keeping.
            self.close()
        } else {
            self.pool.connectionFreed()
        }
    }

    /// A call written here passed its deadline or was cancelled.
    func abandoned() {
        if self.inFlight.allSatisfy({ $0.isDone }) { self.close() }
    }

    /// The pipeline reported `error`; the handler closes the channel next.
    func failed(_ error: any Error) {
        if self.failure == nil { self.failure = error }
    }

    func close() {
        guard case .active(let channel) = self.state else { return }
        channel.close(promise: nil)
    }

    /// The connection ended: every call still waiting for its response here fails (it may have reached the
    /// server, so it is not sent again).
    func closed() {
        if case .closed = self.state { return }
        self.state = .closed
        let cause = self.failure.map { " (\($0))" } ?? ""
        while let call = self.inFlight.popFirst() {
            call.connection = nil
            call.complete(
                .failure(
                    HTTPCallError(
                        .connectionLost,
                        mayHaveReachedServer: true,
                        "The connection to \(self.pool.hostHeader) closed\(cause) before the response to "
                            + "\(call.summary) arrived; the server may have received the request, so it was not sent "
                            + "again."
                    )
                )
            )
        }
        self.pool.connectionClosed(self)
    }

    private func fail(reason: String) {
        if self.failure == nil {
            self.failure = HTTPCallError(.invalidResponse, mayHaveReachedServer: true, reason)
        }
        self.close()
    }
}
