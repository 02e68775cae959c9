// SPDX-License-Identifier: Apache-2.0

/// Serves a large read-only document (`/master/state`): at most `maxConcurrentRenders` renders at a time, and when
/// that many run, the requests that arrive meanwhile share the next render.
///
/// - Rendering 100,000 tasks takes the best part of a second of CPU. Any number of readers used to render side by
///   side on the cooperative thread pool, and two of them on two cores stalled everything else the master does (agent
///   pings, status updates) for the length of a render. The `render` closure should do its heavy synchronous work off
///   that pool (the master runs it on `NIOThreadPool.singleton`), and the limit bounds the CPU many dashboards can take.
/// - A request never gets a document older than itself: it starts a render, or waits for the next one, which takes
///   its snapshot of the state after the request arrived; it never joins a render already in progress. So a client
///   that launched a task and then reads the state sees the task, as with a render of its own.
public actor StateDocumentRenderer {
    /// Produces one document; takes its snapshot of the state when called.
    public typealias Render = @Sendable () async throws -> [UInt8]

    private let render: Render
    private let maxConcurrentRenders: Int
    private var waiting: [CheckedContinuation<[UInt8], any Error>] = []
    private var running = 0
    /// Renders started so far.
    public private(set) var renders = 0

    /// Creates a renderer that calls `render` for each batch of requests, at most `maxConcurrentRenders` at once.
    public init(maxConcurrentRenders: Int = 2, render: @escaping Render) {
        self.render = render
        self.maxConcurrentRenders = max(1, maxConcurrentRenders)
    }

    /// The document as of a moment after this call began.
    public func document() async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            self.waiting.append(continuation)
            self.startIfPossible()
        }
    }

    /// Starts a render for everything waiting, if a render slot is free.
    private func startIfPossible() {
        guard !self.waiting.isEmpty, self.running < self.maxConcurrentRenders else { return }
        let batch = self.waiting
        self.waiting = []
        self.running += 1
        self.renders += 1
        let render = self.render
        Task {
            let result: Result<[UInt8], any Error>
            do {
                result = .success(try await render())
            } catch {
                result = .failure(error)
            }
            for continuation in batch { continuation.resume(with: result) }
            self.finished()
        }
    }

    private func finished() {
        self.running -= 1
        self.startIfPossible()
    }
}
