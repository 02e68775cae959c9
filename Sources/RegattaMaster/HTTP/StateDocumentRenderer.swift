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

    /// What a waiting request is told when it resumes.
    private enum Turn {
        /// The document rendered for its batch (or the render's error).
        case done(Result<[UInt8], any Error>)
        /// It leads the next batch: it renders, for itself and for `followers`.
        case lead(followers: [CheckedContinuation<Turn, Never>])
    }

    private let render: Render
    private let maxConcurrentRenders: Int
    private var waiting: [CheckedContinuation<Turn, Never>] = []
    private var running = 0
    /// Renders started so far.
    public private(set) var renders = 0

    /// Creates a renderer that calls `render` for each batch of requests, at most `maxConcurrentRenders` at once.
    public init(maxConcurrentRenders: Int = 2, render: @escaping Render) {
        self.render = render
        self.maxConcurrentRenders = max(1, maxConcurrentRenders)
    }

    /// The document as of a moment after this call began.
    ///
    /// The render of a batch runs in the task of one of its requests (the one that started it, or the first that
    /// waited for a free slot), awaited there: no task outlives the requests.
    public func document() async throws -> [UInt8] {
        let turn: Turn
        if self.running < self.maxConcurrentRenders && self.waiting.isEmpty {
            self.running += 1
            turn = .lead(followers: [])
        } else {
            turn = await withCheckedContinuation {
                self.waiting.append($0)
                self.startIfPossible()
            }
        }
        switch turn {
        case .done(let result):
            return try result.get()
        case .lead(let followers):
            return try await self.renderBatch(followers: followers)
        }
    }

    /// Renders for a leader and its followers in a slot taken for them, then hands the slot on.
    private func renderBatch(followers: [CheckedContinuation<Turn, Never>]) async throws -> [UInt8] {
        self.renders += 1
        let result: Result<[UInt8], any Error>
        do {
            result = .success(try await self.render())
        } catch {
            result = .failure(error)
        }
        for follower in followers { follower.resume(returning: .done(result)) }
        self.running -= 1
        self.startIfPossible()
        return try result.get()
    }

    /// Hands a free render slot to everything waiting: the first waiter leads the batch.
    private func startIfPossible() {
        guard !self.waiting.isEmpty, self.running < self.maxConcurrentRenders else { return }
        var batch = self.waiting
        self.waiting = []
        self.running += 1
        let leader = batch.removeFirst()
        leader.resume(returning: .lead(followers: batch))
    }
}
