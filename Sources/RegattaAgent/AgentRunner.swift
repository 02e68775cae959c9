// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCore

/// The I/O shell of a running agent: performs what ``AgentCore`` decides (supervising containers, delivering
/// status updates, running health checks, talking to the master). Created by ``AgentService/run()`` for one run.
struct AgentRunner: Sendable {
    let configuration: AgentConfiguration
    let core: AgentCore
    let runtime: any ContainerRuntime
    let master: MasterClient
    let metaStore: AgentMetaStore
    let healthProbe: any HealthCheckProbe
    let capabilities: [String]
    let version: String
    /// The clock, wall clock, ids and randomness the agent runs on.
    let environment: AgentEnvironment
    let logger: Logger

    /// Time on the agent's clock since it was created, which the core's timers use.
    var uptime: @Sendable () -> Duration { self.environment.uptime }

    /// Sleeps `duration` on the agent's clock.
    ///
    /// - Throws: `CancellationError` when the calling task is cancelled.
    func sleep(for duration: Duration) async throws {
        try await self.environment.clock.sleep(for: duration)
    }

    /// Runs every job the core schedules, concurrently, until the calling task is cancelled.
    func runJobs(_ jobs: AsyncStream<AgentCore.Job>) async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask { await self.perform(job) }
            }
        }
    }

    private func perform(_ job: AgentCore.Job) async {
        switch job {
        case .supervise(let key): await self.supervise(key)
        case .sendUpdate(let key, let update, let ticket):
            // Nothing is sent before its checkpoint is durable.
            await self.core.syncer.waitUntilDurable(ticket)
            await self.send(update, of: key)
        case .pong(let agentID): await self.pong(agentID)
        case .healthChecks(let key): await self.runHealthChecks(key)
        }
    }

    /// Signals a container; one that has already gone needs nothing.
    func killContainer(_ kill: AgentCore.ContainerKill) async {
        do {
            try await self.runtime.kill(kill.containerID, gracePeriod: kill.gracePeriod)
        } catch {
            self.logger.debug(
                "Container to kill is already gone",
                metadata: [LogKey.containerID: "\(kill.containerID)", LogKey.error: "\(error)"]
            )
        }
    }

    /// Waits until the master has taken every status update (and, if asked, no task is alive), or until `timeout`.
    ///
    /// - Returns: whether everything drained in time.
    func drain(includingTasks: Bool, timeout: Duration) async -> Bool {
        let deadline = self.uptime() + timeout
        while self.uptime() < deadline {
            if await self.core.isQuiescent(includingTasks: includingTasks) { return true }
            do {
                try await self.sleep(for: .milliseconds(50))
            } catch {
                return false
            }
        }
        return await self.core.isQuiescent(includingTasks: includingTasks)
    }
}
