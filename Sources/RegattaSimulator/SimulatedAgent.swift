// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCoordination
import RegattaCore
import Synchronization

/// Identifies a task on an agent: task ids are unique per framework.
struct SimulatedTaskKey: Hashable, Sendable {
    var frameworkID: FrameworkID
    var taskID: TaskID
}

/// One simulated agent: a real client of the master's agent protocol (`docs/protocol.md`) whose tasks are
/// simulated instead of run.
///
/// It keeps one SUBSCRIBE stream open and subscribes again (with its id and its tasks) whenever the stream
/// ends, answers every `PING` with a `PONG`, and delivers status updates through one ordered queue per task,
/// retrying each until the master answers `202`. Nothing is written to disk.
final class SimulatedAgent: Sendable {
    /// Work the agent's task group runs concurrently with reading its stream.
    enum Job: Sendable {
        /// Deliver the queued updates of a task, in order.
        case deliver(SimulatedTaskKey)
        /// Answer a ping.
        case pong
        /// Let a task progress after a delay (start, end on its own, finish a kill).
        case after(Duration, SimulatedTaskKey, generation: Int, TaskEvent)
    }

    /// A timed step of a simulated task.
    enum TaskEvent: Sendable {
        case started
        case ended
        case killed
    }

    /// A task the agent runs (or ran, until its terminal update is taken).
    struct SimulatedTask: Sendable {
        var info: TaskInfo
        var frameworkID: FrameworkID
        var state: TaskState
        var behaviour: TaskBehaviour
        /// Distinguishes runs of a task id that is launched again after it finished.
        var generation: Int
        var killRequested = false
    }

    struct State: Sendable {
        var agentID: AgentID?
        /// The master's token for the current registration, sent back on UPDATE, PONG and re-SUBSCRIBE.
        var registrationToken: String?
        var tasks: [SimulatedTaskKey: SimulatedTask] = [:]
        var queues: [SimulatedTaskKey: [TaskStatus]] = [:]
        var sending: Set<SimulatedTaskKey> = []
        var frameworks: [FrameworkID: FrameworkInfo] = [:]
        var session: StreamSession?
        /// The master that holds the agent's registered stream (`http://host:port/api/v1/agent`), where UPDATE and
        /// PONG go; `nil` while not registered.
        var masterEndpoint: String?
        var random: SplitMix64
        var nextGeneration = 0
    }

    let index: Int
    let info: AgentInfo
    let configuration: AgentSimulator.Configuration
    let client: AgentCallClient
    /// Where the master is found.
    let source: MasterSource
    /// The detected leader, shared by every agent of the simulator (unused with a fixed master).
    let leading: LeadingMaster
    let counters: SimulatorCounters
    let logger: Logger
    let state: Mutex<State>
    private let jobs: AsyncStream<Job>
    private let jobsContinuation: AsyncStream<Job>.Continuation

    init(
        index: Int,
        configuration: AgentSimulator.Configuration,
        client: AgentCallClient,
        source: MasterSource,
        leading: LeadingMaster,
        counters: SimulatorCounters,
        logger: Logger
    ) {
        self.index = index
        self.configuration = configuration
        self.client = client
        self.source = source
        self.leading = leading
        self.counters = counters
        var logger = logger
        logger[metadataKey: LogKey.agentIndex] = "\(index)"
        self.logger = logger
        var attributes: [Attribute] = []
        if configuration.racks > 0 {
            attributes.append(Attribute(name: "rack", value: .text("rack-\(index % configuration.racks)")))
        }
        if configuration.zones > 0 {
            attributes.append(Attribute(name: "zone", value: .text("zone-\(index % configuration.zones)")))
        }
        attributes += configuration.attributes
        self.info = AgentInfo(
            hostname: "\(configuration.hostnamePrefix)\(index)",
            port: configuration.reportedPort,
            resources: configuration.resources,
            attributes: attributes
        )
        self.state = Mutex(State(random: SplitMix64(seed: configuration.seed &+ UInt64(index))))
        (self.jobs, self.jobsContinuation) = AsyncStream.makeStream(of: Job.self, bufferingPolicy: .unbounded)
    }

    /// The id the master assigned, `nil` before the first registration.
    var agentID: AgentID? { self.state.withLock { $0.agentID } }

    /// The state of every task the agent knows.
    var taskStates: [TaskID: TaskState] {
        self.state.withLock { state in
            Dictionary(state.tasks.map { ($0.key.taskID, $0.value.state) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Runs the agent until the calling task is cancelled: the master link and every job it schedules.
    func run(startAfter delay: Duration) async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                if delay > .zero {
                    do { try await Task.sleep(for: delay) } catch { return }
                }
                await self.runMasterLink()
            }
            // Ends when the task is cancelled.
            for await job in self.jobs {
                group.addTask { await self.perform(job) }
            }
            group.cancelAll()
        }
    }

    func schedule(_ jobs: [Job]) {
        for job in jobs { self.jobsContinuation.yield(job) }
    }

    private func perform(_ job: Job) async {
        switch job {
        case .deliver(let key):
            await self.deliver(key)
        case .pong:
            await self.pong()
        case .after(let delay, let key, let generation, let event):
            do { try await Task.sleep(for: delay) } catch { return }
            self.schedule(self.progress(key, generation: generation, event: event))
        }
    }

    private func pong() async {
        let (agentID, endpoint, token) = self.state.withLock { ($0.agentID, $0.masterEndpoint, $0.registrationToken) }
        guard let agentID, let endpoint else { return }
        do {
            switch try await self.client.send(.pong(agent: agentID, registrationToken: token), to: endpoint) {
            case .accepted:
                self.counters.update { $0.pongsAccepted += 1 }
            case .unknownAgent:
                self.requestResubscribe()
            case .rejected(let status, let message):
                self.logger.debug("Master refused PONG", metadata: ["status": "\(status)", LogKey.error: "\(message)"])
            }
        } catch {
            self.logger.debug("PONG failed", metadata: [LogKey.error: "\(error)"])
        }
    }

    /// Ends the current registered stream so the agent subscribes again; does nothing while not registered
    /// (the SUBSCRIBE in flight will register the agent).
    func requestResubscribe() {
        let session = self.state.withLock { $0.session }
        if let session, session.isRegistered {
            session.requestResubscribe()
        }
    }
}
