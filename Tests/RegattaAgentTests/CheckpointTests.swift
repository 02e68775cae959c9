// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import RegattaCore
import Testing

@testable import RegattaAgent

@Suite struct CheckpointTests {
    private func update(_ state: TaskState, _ uuid: String) -> StatusUpdateManager.Update {
        StatusUpdateManager.Update(frameworkId: "fw", status: TaskStatus(taskId: "t", state: state, uuid: uuid))
    }

    @Test func replaysTheUpdateLog() {
        // Given STARTING acknowledged, RUNNING taken, FINISHED produced
        let records: [UpdateRecord] = [
            .update(self.update(.starting, "a")), .taken("a"), .ack("a"), .update(self.update(.running, "b")),
            .update(self.update(.finished, "c")), .taken("b"), .ack("zzz"),
        ]
        // When
        let replay = UpdateRecord.replay(records)
        // Then
        #expect(replay.all.map(\.uuid) == ["a", "b", "c"])
        #expect(replay.pending.map(\.uuid) == ["b", "c"])
        #expect(replay.headTaken)
        #expect(replay.masterState == .running)
    }

    @Test func savesAndLoadsRunsAndIgnoresATornLastLine() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            // Given
            let store = CheckpointStore(layout: SandboxLayout(workDir: workDir))
            let task = TestSupport.task("t", command: .shell("sleep 1"))
            let checkpoint = TaskCheckpoint(
                frameworkId: "fw",
                frameworkInfo: nil,
                agentId: "agent-1",
                task: task,
                containerId: "c-1",
                containerType: .mesos,
                sandbox: workDir + "/sandbox",
                state: .running,
                pid: 42,
                pidStartTime: 7,
                killRequested: true,
                killedByHealthCheck: nil,
                launchedAt: 1000,
                completedAt: nil
            )
            // When
            try store.save(checkpoint)
            try store.append(.update(self.update(.running, "a")), container: "c-1")
            try store.append(.taken("a"), container: "c-1")
            let handle = try #require(FileHandle(forWritingAtPath: store.updatesFile("c-1")))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(#"{"type":"UPDATE","upd"#.utf8))
            try handle.close()
            // Then
            #expect(store.runs() == ["c-1"])
            #expect(try store.load("c-1") == checkpoint)
            let records = store.records("c-1")
            #expect(records.map(\.type) == [.update, .taken])
            #expect(store.exitStatus("c-1") == nil)
            try "143\n".write(toFile: store.exitStatusFile("c-1"), atomically: true, encoding: .utf8)
            #expect(store.exitStatus("c-1") == 143)
            store.remove("c-1")
            #expect(store.runs().isEmpty)
        }
    }

    @Test func decodesShellExitCodes() {
        #expect(TaskSupervisor.status(exitCode: 0) == .exited(code: 0))
        #expect(TaskSupervisor.status(exitCode: 3) == .exited(code: 3))
        #expect(TaskSupervisor.status(exitCode: 127) == .exited(code: 127))
        #expect(TaskSupervisor.status(exitCode: 128) == .exited(code: 128))
        #expect(TaskSupervisor.status(exitCode: 137) == .signaled(signal: 9))
        #expect(TaskSupervisor.status(exitCode: 143) == .signaled(signal: 15))
        #expect(TaskSupervisor.status(exitCode: 255) == .exited(code: 255))
    }

    @Test func parsesProcStatWithOddCommandNames() {
        let line = "1234 (my (odd) cmd) S 1 1234 1234 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 987654 1000 10"
        let stat = ProcessTable.parseStat(line)
        #expect(stat?.pid == 1234)
        #expect(stat?.state == "S")
        #expect(stat?.processGroup == 1234)
        #expect(stat?.cpuTicks == 10)
        #expect(stat?.startTime == 987654)
        #expect(ProcessTable.stat(getpid())?.startTime == ProcessTable.stat(getpid())?.startTime)
        #expect(ProcessTable.isRunning(getpid(), startTime: ProcessTable.stat(getpid())?.startTime))
        #expect(!ProcessTable.isRunning(getpid(), startTime: 1))
    }
}
