// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaMaster
import Testing

/// Permits handed out one by one: a render waits for one, the test gives them.
private actor Permits {
    private var available = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if self.available > 0 {
            self.available -= 1
            return
        }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    func give() {
        if self.waiters.isEmpty {
            self.available += 1
        } else {
            self.waiters.removeFirst().resume()
        }
    }
}

/// A render that numbers its documents, waits for a permit before finishing and records how many ran at once.
private final class CountingRender: Sendable {
    let permits = Permits()
    private let state = Locked<(started: Int, running: Int, maxRunning: Int, failNext: Bool)>((0, 0, 0, false))

    var started: Int { self.state.value.started }
    var maxRunning: Int { self.state.value.maxRunning }
    func failNext() { self.state.withLock { $0.failNext = true } }

    func render() async throws -> [UInt8] {
        let number = self.state.withLock { state -> Int in
            state.started += 1
            state.running += 1
            state.maxRunning = max(state.maxRunning, state.running)
            return state.started
        }
        await self.permits.wait()
        let fail = self.state.withLock { state -> Bool in
            state.running -= 1
            defer { state.failNext = false }
            return state.failNext
        }
        if fail { throw RenderFailed() }
        return [UInt8(number)]
    }

    struct RenderFailed: Error {}
}

@Suite struct StateDocumentRendererTests {
    /// Polls until `condition` holds (the renders run on other tasks).
    private func waitUntil(_ condition: () async -> Bool) async throws {
        for _ in 0..<500 {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(2))
        }
        Issue.record("condition not reached")
    }

    @Test func requestsDuringARenderShareTheNextRenderNeverTheOneInProgress() async throws {
        // Given a render in progress for a first request, with one render at a time
        let render = CountingRender()
        let renderer = StateDocumentRenderer(maxConcurrentRenders: 1) { try await render.render() }
        let first = Task { try await renderer.document() }
        try await self.waitUntil { render.started == 1 }
        // When two more requests arrive while it runs, and then the renders finish
        let second = Task { try await renderer.document() }
        let third = Task { try await renderer.document() }
        try await Task.sleep(for: .milliseconds(20))
        #expect(render.started == 1, "no second render starts while one runs")
        await render.permits.give()
        #expect(try await first.value == [1])
        try await self.waitUntil { render.started == 2 }
        await render.permits.give()
        // Then the later requests got the render that began after they arrived, one render for both
        #expect(try await second.value == [2])
        #expect(try await third.value == [2])
        #expect(await renderer.renders == 2)
        #expect(render.maxRunning == 1)
    }

    @Test func upToTheLimitRequestsRenderSideBySideThenTheRestShareTheNextRender() async throws {
        // Given two render slots, both busy
        let render = CountingRender()
        let renderer = StateDocumentRenderer(maxConcurrentRenders: 2) { try await render.render() }
        let first = Task { try await renderer.document() }
        try await self.waitUntil { render.started == 1 }
        let second = Task { try await renderer.document() }
        try await self.waitUntil { render.started == 2 }
        // When two more arrive, they wait for a free slot and then share one render
        let third = Task { try await renderer.document() }
        let fourth = Task { try await renderer.document() }
        try await Task.sleep(for: .milliseconds(20))
        #expect(render.started == 2)
        await render.permits.give()
        await render.permits.give()
        try await self.waitUntil { render.started == 3 }
        await render.permits.give()
        // Then
        let early = Set([try await first.value, try await second.value])
        #expect(early == [[1], [2]])
        #expect(try await third.value == [3])
        #expect(try await fourth.value == [3])
        #expect(render.maxRunning == 2)
        #expect(await renderer.renders == 3)
    }

    @Test func aFailedRenderFailsItsRequestsAndTheNextRequestRendersAgain() async throws {
        // Given a render that fails
        let render = CountingRender()
        let renderer = StateDocumentRenderer { try await render.render() }
        render.failNext()
        let failing = Task { try await renderer.document() }
        try await self.waitUntil { render.started == 1 }
        await render.permits.give()
        // Then its request gets the error
        await #expect(throws: CountingRender.RenderFailed.self) { try await failing.value }
        // And a later request starts a new render and gets its document
        let next = Task { try await renderer.document() }
        try await self.waitUntil { render.started == 2 }
        await render.permits.give()
        #expect(try await next.value == [2])
    }

    @Test func aLoneRequestRendersAtOnce() async throws {
        let render = CountingRender()
        let renderer = StateDocumentRenderer { try await render.render() }
        await render.permits.give()
        #expect(try await renderer.document() == [1])
        await render.permits.give()
        #expect(try await renderer.document() == [2])
        #expect(await renderer.renders == 2)
    }
}
