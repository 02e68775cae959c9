// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import Logging
import RegattaCore
import RegattaTestKit

@testable import RegattaAgent

/// Helpers shared by the agent tests.
enum TestSupport {
    /// A logger for tests; `REGATTA_TEST_LOG_LEVEL=debug` shows the agent's logs.
    static func logger(_ label: String = "regatta.agent.test") -> Logger {
        var logger = Logger(label: label)
        logger.logLevel =
            ProcessInfo.processInfo.environment["REGATTA_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
            ?? .warning
        return logger
    }

    /// The wall clock of ``environment(clock:wallClock:)``: 2023-11-14T22:13:20Z.
    static let wallClockStart: Double = 1_700_000_000

    /// An agent environment for unit tests: time on `clock` (the wall clock moves with it from `wallClock`),
    /// container ids `c-1`, `c-2`, … and a generator seeded with `seed`.
    static func environment(
        clock: ManualClock = ManualClock(),
        wallClock: Double = Self.wallClockStart,
        seed: UInt64 = 1
    ) -> AgentEnvironment {
        let ids = Locked(0)
        return AgentEnvironment(
            clock: clock,
            wallClock: { wallClock + clock.uptimeNow.seconds },
            makeContainerID: {
                let next = ids.withLock { count -> Int in
                    count += 1
                    return count
                }
                return ContainerID("c-\(next)")
            },
            random: SeededGenerator(seed: seed)
        )
    }

    /// Creates an empty temporary directory and removes it after `body`.
    static func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
        let path = FileManager.default.temporaryDirectory.path + "/regatta-agent-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }

    /// Pids of live (non-zombie) processes in process group `pgid`, read from `/proc`.
    static func liveProcesses(inGroup pgid: Int32) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var pids: [Int32] = []
        for entry in entries {
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // Fields after "(comm)": state ppid pgrp ...
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, let group = Int32(fields[2]) else { continue }
            if group == pgid && fields[0] != "Z" && fields[0] != "X" {
                pids.append(pid)
            }
        }
        return pids
    }

    /// Whether process group `pgid` has no live member: `kill(-pgid, 0)` fails with ESRCH, or only zombies
    /// (waiting for init to reap them) are left. Polls for up to `timeout`.
    static func processGroupIsGone(_ pgid: Int32, timeout: Duration = .seconds(3)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            if Glibc.kill(-pgid, 0) == -1 && errno == ESRCH { return true }
            if Self.liveProcesses(inGroup: pgid).isEmpty { return true }
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Polls `condition` until it holds or `timeout` passes.
    static func eventually(
        timeout: Duration = .seconds(10),
        _ condition: @Sendable () async throws -> Bool
    ) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(25))
        }
        return try await condition()
    }

    /// A command task.
    static func task(
        _ id: String,
        command: CommandInfo,
        agent: AgentID = "agent-1",
        killGrace: Double? = nil,
        container: ContainerInfo? = nil
    ) -> TaskInfo {
        var task = TaskInfo(
            name: id,
            taskId: TaskID(id),
            agentId: agent,
            resources: (try? Resources.parse("cpus:0.1;mem:32")) ?? Resources(),
            command: command,
            container: container
        )
        if let killGrace {
            task.killPolicy = KillPolicy(gracePeriod: DurationInfo(seconds: killGrace))
        }
        return task
    }
}
