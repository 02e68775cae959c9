// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Synchronization
import Testing

@testable import RegattaAgent

/// The group commit of checkpoint writes: a ticket is durable only once everything registered up to it was
/// synced, and writes registered while a commit runs are synced together by the next one.
@Suite struct CheckpointSyncerTests {
    /// A sync that records each path and blocks while the gate is closed.
    final class GatedSync: Sendable {
        private let state = Mutex((closed: true, synced: [String]()))
        private let opened = DispatchSemaphore(value: 0)

        var sync: CheckpointSyncer.Sync {
            { path in
                let closed = self.state.withLock { state -> Bool in
                    state.synced.append(path)
                    return state.closed
                }
                if closed {
                    self.opened.wait()
                    self.opened.signal()
                }
                return nil
            }
        }

        var synced: [String] { self.state.withLock { $0.synced } }

        func open() {
            self.state.withLock { $0.closed = false }
            self.opened.signal()
        }
    }

    @Test func aTicketIsDurableOnlyOnceItsFilesAndThenTheirDirectoriesAreSynced() async throws {
        // Given a syncer whose fsync blocks
        let gate = GatedSync()
        let syncer = CheckpointSyncer(sync: gate.sync, syncFileSystem: nil, logger: TestSupport.logger())
        // When a write is registered
        let ticket = syncer.register(CheckpointSyncer.Writes(files: ["run/updates.log"], directories: ["run"]))
        let synced = await TestSupport.eventually { gate.synced == ["run/updates.log"] }
        // Then it is not durable while the sync of its file has not returned
        #expect(synced)
        #expect(!syncer.isDurable(ticket))
        let waiter = Task { await syncer.waitUntilDurable(ticket) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(!syncer.isDurable(ticket))
        // When the sync returns, the file then its directory were synced, and the waiter goes on
        gate.open()
        await waiter.value
        #expect(syncer.isDurable(ticket))
        #expect(gate.synced == ["run/updates.log", "run"])
        // And a ticket already durable is waited for without a new commit
        await syncer.waitUntilDurable(ticket)
        #expect(gate.synced.count == 2)
    }

    @Test func writesRegisteredDuringACommitAreSyncedTogetherByTheNext() async throws {
        // Given a commit blocked in its first fsync
        let gate = GatedSync()
        let syncer = CheckpointSyncer(sync: gate.sync, syncFileSystem: nil, logger: TestSupport.logger())
        let first = syncer.register(CheckpointSyncer.Writes(files: ["a/updates.log"], directories: []))
        #expect(await TestSupport.eventually { gate.synced == ["a/updates.log"] })
        // When three more writes arrive meanwhile, two of them to the same file
        let second = syncer.register(CheckpointSyncer.Writes(files: ["b/updates.log"], directories: ["b"]))
        let third = syncer.register(CheckpointSyncer.Writes(files: ["b/updates.log"], directories: []))
        let fourth = syncer.register(CheckpointSyncer.Writes(files: ["c/task.json"], directories: ["c"]))
        #expect(syncer.latestTicket == fourth)
        #expect([first, second, third, fourth] == [1, 2, 3, 4])
        // Then none is durable before its commit ran
        #expect(!syncer.isDurable(second))
        gate.open()
        await syncer.waitUntilDurable(fourth)
        // And one more commit synced each file once, files before directories
        #expect(gate.synced == ["a/updates.log", "b/updates.log", "c/task.json", "b", "c"])
        #expect(syncer.isDurable(first) && syncer.isDurable(third))
    }

    @Test func aLargeBatchSyncsTheFileSystemOnce() async throws {
        // Given a syncer whose per-path fsync blocks and that records file system syncs
        let gate = GatedSync()
        let fileSystemSyncs = Mutex([String]())
        let syncer = CheckpointSyncer(
            sync: gate.sync,
            syncFileSystem: { path in
                fileSystemSyncs.withLock { $0.append(path) }
                return .some(nil)
            },
            logger: TestSupport.logger()
        )
        // When a small write blocks the first commit and many writes pile up meanwhile
        let first = syncer.register(CheckpointSyncer.Writes(files: ["a/updates.log"], directories: []))
        #expect(await TestSupport.eventually { gate.synced == ["a/updates.log"] })
        var last = first
        for run in 0..<CheckpointSyncer.syncFileSystemThreshold {
            last = syncer.register(
                CheckpointSyncer.Writes(files: ["r\(run)/updates.log"], directories: ["r\(run)"])
            )
        }
        gate.open()
        await syncer.waitUntilDurable(last)
        // Then the second commit synced the file system once instead of each of its paths
        #expect(gate.synced == ["a/updates.log"])
        #expect(fileSystemSyncs.withLock { $0 } == ["r0/updates.log"])
    }

    @Test func aStatusUpdateIsSentOnlyAfterItsRecordIsDurable() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            // Given an agent whose checkpoint fsyncs block
            let gate = GatedSync()
            let syncer = CheckpointSyncer(sync: gate.sync, syncFileSystem: nil, logger: TestSupport.logger())
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
                syncer: syncer,
                logger: TestSupport.logger()
            )
            _ = await core.registered(
                AgentMessage.Registered(agentId: "agent-1", masterInfo: nil, pingIntervalSeconds: nil)
            )
            // When two tasks are launched and start
            for task in ["t1", "t2"] {
                await core.launch(
                    AgentMessage.Launch(
                        frameworkId: "fw",
                        frameworkInfo: FrameworkInfo(user: "root", name: "f", id: "fw"),
                        task: TestSupport.task(task, command: .shell("true"))
                    )
                )
                _ = await core.beginLaunch(TaskKey(frameworkID: "fw", taskID: TaskID(task)))
            }
            // Then both STARTING updates are to be sent at once (one stream per task, not one for the agent)…
            var sends: [(TaskKey, StatusUpdateManager.Update, UInt64)] = []
            for await job in jobs {
                if case .sendUpdate(let key, let update, let ticket) = job { sends.append((key, update, ticket)) }
                if sends.count == 2 { break }
            }
            #expect(sends.map(\.0.taskID) == ["t1", "t2"])
            #expect(sends.allSatisfy { $0.1.status.state == .starting })
            // …each only once the checkpoint writes up to its record are durable, which they are not yet
            let store = CheckpointStore(layout: SandboxLayout(workDir: workDir))
            let logs = store.runs().map(store.updatesFile)
            #expect(logs.count == 2)
            for send in sends {
                #expect(send.2 > 0 && send.2 <= syncer.latestTicket)
                #expect(!syncer.isDurable(send.2))
            }
            gate.open()
            await syncer.waitUntilDurable(syncer.latestTicket)
            // And by then every update log and run directory was synced
            for log in logs {
                #expect(gate.synced.contains(log))
                #expect(gate.synced.contains((log as NSString).deletingLastPathComponent))
            }
        }
    }
}
