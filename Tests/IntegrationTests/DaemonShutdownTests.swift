// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

/// Every daemon stops on SIGTERM within its bound while clients hold streams open: the graceful path (not the
/// 20-second hard deadline of `ShutdownBounds`) ends a master with a subscribed framework, an agent registered with
/// it, and a scheduler with an open event stream.
@Suite(.serialized) struct DaemonShutdownTests {
    @Test func masterAgentAndSchedulerStopGracefullyWithStreamsOpen() async throws {
        // Given a master, an agent registered with it and a scheduler with a SQLite store, as separate processes
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("regatta-stop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let masterPort = freePort()
        let agentPort = freePort()
        let schedulerPort = freePort()
        let master = try RegattaProcess(
            [
                "master", "--ip", "127.0.0.1", "--port", "\(masterPort)", "--work_dir",
                dir.appendingPathComponent("m").path,
            ],
            log: dir.appendingPathComponent("master.log")
        )
        let agent = try RegattaProcess(
            [
                "agent", "--master", "127.0.0.1:\(masterPort)", "--ip", "127.0.0.1", "--port", "\(agentPort)",
                "--work_dir", dir.appendingPathComponent("a").path, "--resources", "cpus:2;mem:1024;disk:1024",
            ],
            log: dir.appendingPathComponent("agent.log")
        )
        let scheduler = try RegattaProcess(
            [
                "scheduler", "--master", "127.0.0.1:\(masterPort)", "--hostname", "127.0.0.1",
                "--http_port", "\(schedulerPort)", "--store", "sqlite://\(dir.appendingPathComponent("s.db").path)",
            ],
            log: dir.appendingPathComponent("scheduler.log")
        )
        let all = [("master", master), ("agent", agent), ("scheduler", scheduler)]
        do {
            try await Self.eventually("the agent and the scheduler registered with the master") {
                let state = try await HTTP.get("http://127.0.0.1:\(masterPort)/master/state")
                guard let root = state.json as? [String: Any] else { return false }
                let agents = (root["slaves"] as? [[String: Any]])?.count ?? 0
                let frameworks = (root["frameworks"] as? [[String: Any]])?.count ?? 0
                return agents == 1 && frameworks == 1
            }
            // And a client holding the scheduler's event stream and one holding a framework SUBSCRIBE stream
            let events = try RawSocket(port: schedulerPort)
            events.send("GET /v2/events HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n")
            let subscription = try RawSocket(port: masterPort)
            let subscribe = #"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"held"}}}"#
            subscription.send(
                "POST /api/v1/scheduler HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                    + "Accept: application/json\r\nContent-Length: \(subscribe.utf8.count)\r\n\r\n\(subscribe)"
            )
            try await Self.eventually("the held framework subscribed") {
                let state = try await HTTP.get("http://127.0.0.1:\(masterPort)/master/state")
                let frameworks = ((state.json as? [String: Any])?["frameworks"] as? [[String: Any]]) ?? []
                return frameworks.count == 2
            }
            defer {
                events.close()
                subscription.close()
            }
            // When each is sent SIGTERM, the scheduler first, then the agent, then the master
            for (name, process) in [("scheduler", scheduler), ("agent", agent), ("master", master)] {
                let start = ContinuousClock.now
                await process.stop(timeout: .seconds(30))
                let took = ContinuousClock.now - start
                // Then it exited by itself, within the graceful bound (15 s) and not through the hard deadline
                #expect(!process.process.isRunning, "\(name) still runs: \(process.logTail())")
                #expect(process.process.terminationReason == .exit, "\(name) was killed: \(process.logTail())")
                #expect(took < .seconds(20), "\(name) took \(took) to stop: \(process.logTail())")
                #expect(!process.logTail(200).contains("did not stop within"), "\(name): \(process.logTail())")
            }
        } catch {
            for (_, process) in all { await process.stop(timeout: .seconds(5)) }
            throw error
        }
    }

    private static func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("timed out waiting for: \(what)")
        throw CancellationError()
    }
}
