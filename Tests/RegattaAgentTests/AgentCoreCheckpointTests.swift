// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

@testable import RegattaAgent

/// How ``AgentCore`` checkpoints a task run: `task.json` at launch and when the pid is known, every state in the
/// update log, and what a restarted agent rebuilds from them.
@Suite struct AgentCoreCheckpointTests {
    private func core(_ workDir: String) -> (AgentCore, AsyncStream<AgentCore.Job>) {
        let (jobs, continuation) = AsyncStream<AgentCore.Job>.makeStream()
        let core = AgentCore(
            agentInfo: AgentInfo(hostname: "h1", port: 5051, resources: Resources(), id: "agent-1"),
            layout: SandboxLayout(workDir: workDir),
            defaultKillGracePeriod: .seconds(1),
            supportedContainerTypes: [.mesos],
            updateTiming: StatusUpdateManager.Configuration(),
            baseEnvironment: [:],
            environment: TestSupport.environment(),
            jobs: continuation,
            logger: TestSupport.logger()
        )
        return (core, jobs)
    }

    @Test func aFinishedRunIsRecoveredFromItsUpdateLogWithoutRewritingTheTaskFile() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            // Given a task that was launched, started (pid 4242), ran and exited 0
            let (core, _) = self.core(workDir)
            let key = TaskKey(frameworkID: "fw", taskID: "t")
            await core.launch(
                AgentMessage.Launch(
                    frameworkId: "fw",
                    frameworkInfo: FrameworkInfo(user: "root", name: "f", id: "fw"),
                    task: TestSupport.task("t", command: .shell("true"))
                )
            )
            let step = try #require(await core.beginLaunch(key))
            guard case .launch(let request) = step else {
                Issue.record("Expected a launch, got \(step)")
                return
            }
            _ = await core.launched(key, LaunchedContainer(containerID: request.containerID, pid: 4242, startTime: 9))
            await core.terminated(key, ContainerTermination(status: .exited(code: 0), killed: false))

            // Then task.json holds the pid (written before RUNNING) and the log holds every state, in order
            let store = CheckpointStore(layout: SandboxLayout(workDir: workDir))
            let saved = try store.load(request.containerID)
            #expect(saved.pid == 4242)
            #expect(saved.pidStartTime == 9)
            let replay = UpdateRecord.replay(store.records(request.containerID))
            #expect(replay.all.map(\.status.state) == [.starting, .running, .finished])
            let finishedAt = try #require(replay.all.last?.status.timestamp)

            // When a new agent process loads the checkpoints
            let (restarted, _) = self.core(workDir)
            let containers = await restarted.loadCheckpoints()

            // Then the run is finished (nothing to recover), with its end time and updates still pending
            #expect(containers.isEmpty)
            let snapshot = await restarted.snapshot()
            #expect(snapshot.liveTasks.isEmpty)
            let task = try #require(snapshot.completedTasks.first)
            #expect(task.state == .finished)
            #expect(task.pid == 4242)
            #expect(task.completedAt == finishedAt)
            #expect(task.statuses.map(\.state) == [.starting, .running, .finished])
            #expect(snapshot.pendingUpdates == 3)
        }
    }

    @Test func aRunningRunIsRecoveredWithItsPidAndLatestState() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            // Given a task that reached RUNNING under pid 77
            let (core, _) = self.core(workDir)
            let key = TaskKey(frameworkID: "fw", taskID: "r")
            await core.launch(
                AgentMessage.Launch(
                    frameworkId: "fw",
                    frameworkInfo: nil,
                    task: TestSupport.task("r", command: .shell("sleep 100"))
                )
            )
            guard case .launch(let request) = try #require(await core.beginLaunch(key)) else {
                Issue.record("Expected a launch")
                return
            }
            _ = await core.launched(key, LaunchedContainer(containerID: request.containerID, pid: 77, startTime: 3))

            // When a new agent process loads the checkpoints
            let (restarted, _) = self.core(workDir)
            let containers = await restarted.loadCheckpoints()

            // Then the runtime is asked for the container under its checkpointed pid, and the task is RUNNING
            #expect(containers.map(\.containerID) == [request.containerID])
            #expect(containers.first?.pid == 77)
            #expect(containers.first?.pidStartTime == 3)
            let live = await restarted.snapshot().liveTasks
            #expect(live.map(\.state) == [.running])
            #expect(live.first?.completedAt == nil)
        }
    }
}
