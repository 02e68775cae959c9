// SPDX-License-Identifier: Apache-2.0
import RegattaAgent
import RegattaCore
import Synchronization

/// A ``ContainerRuntime`` that runs no process: each task behaves as configured (after Nomad's mock driver), on the
/// clock the test controls, and the runtime records what it was asked.
///
/// A task runs for its ``Behaviour/runFor`` on the clock, then exits with ``Behaviour/exitCode``; without `runFor` it
/// runs until killed. A ``Behaviour/startError`` makes its launch fail. A kill ends the container at once with
/// SIGTERM, or, for a task that ``Behaviour/ignoresSIGTERM``, with SIGKILL once the grace period has passed.
///
/// ```swift
/// let clock = ManualClock()
/// let runtime = FakeContainerRuntime(clock: clock)
/// runtime.setBehaviour(.init(runFor: .seconds(5), exitCode: 1), for: "web.1")
/// ```
///
/// - Important: As with the real runtimes, ``run()`` must be running (in the test's task group) for tasks to exit
///   on their own and for grace periods to end.
public final class FakeContainerRuntime<C: Clock<Duration>>: ContainerRuntime {
    /// How a task's container behaves.
    public struct Behaviour: Sendable, Hashable {
        /// How long the container runs before it exits on its own; `nil` runs it until it is killed. Defaults to
        /// `nil`.
        public var runFor: Duration?
        /// The exit code when it exits on its own. Defaults to `0`.
        public var exitCode: Int32
        /// When set, launching fails with `AgentError.launchFailed` carrying this text. Defaults to `nil`.
        public var startError: String?
        /// Whether the container ignores SIGTERM, so that a kill ends it with SIGKILL only after the grace period.
        /// Defaults to `false`.
        public var ignoresSIGTERM: Bool

        /// Describes a behaviour; the defaults run the container until it is killed.
        public init(
            runFor: Duration? = nil,
            exitCode: Int32 = 0,
            startError: String? = nil,
            ignoresSIGTERM: Bool = false
        ) {
            self.runFor = runFor
            self.exitCode = exitCode
            self.startError = startError
            self.ignoresSIGTERM = ignoresSIGTERM
        }
    }

    /// One kill the runtime was asked for.
    public struct Kill: Sendable, Hashable {
        /// The container to kill.
        public var containerID: ContainerID
        /// The grace period between SIGTERM and SIGKILL.
        public var gracePeriod: Duration

        /// Describes a kill.
        public init(containerID: ContainerID, gracePeriod: Duration) {
            self.containerID = containerID
            self.gracePeriod = gracePeriod
        }
    }

    private struct Exit: Sendable {
        var containerID: ContainerID
        var deadline: C.Instant
        var termination: ContainerTermination
    }

    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<ContainerTermination, any Error>
    }

    private struct Container {
        var request: ContainerLaunchRequest
        var behaviour: Behaviour
        var killed = false
        var termination: ContainerTermination?
        var waiters: [Waiter] = []
    }

    private struct State {
        var defaultBehaviour = Behaviour()
        var behaviours: [TaskID: Behaviour] = [:]
        var containers: [ContainerID: Container] = [:]
        var launched: [ContainerLaunchRequest] = []
        var killed: [Kill] = []
        var stopped = false
        var nextID: UInt64 = 0
        var cancelledWaiters: Set<UInt64> = []
    }

    /// The container types this runtime claims to run. Defaults to `.mesos` and `.docker`.
    public let supportedContainerTypes: Set<ContainerInfo.ContainerType>
    private let clock: C
    private let state = Mutex(State())
    private let exits: AsyncStream<Exit>
    private let exitsContinuation: AsyncStream<Exit>.Continuation

    /// A runtime on `clock` whose tasks run until killed unless configured otherwise.
    public init(clock: C, supportedContainerTypes: Set<ContainerInfo.ContainerType> = [.mesos, .docker]) {
        self.clock = clock
        self.supportedContainerTypes = supportedContainerTypes
        (self.exits, self.exitsContinuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// Every launch request received, in order, including those that failed with a start error.
    public var launched: [ContainerLaunchRequest] { self.state.withLock { $0.launched } }

    /// Every kill received, in order.
    public var killed: [Kill] { self.state.withLock { $0.killed } }

    /// The ids of containers that have started and not ended.
    public var running: Set<ContainerID> {
        self.state.withLock { state in
            Set(state.containers.filter { $0.value.termination == nil }.keys)
        }
    }

    /// Sets how the containers of tasks without a behaviour of their own behave.
    public func setDefaultBehaviour(_ behaviour: Behaviour) {
        self.state.withLock { $0.defaultBehaviour = behaviour }
    }

    /// Sets how the containers of task `taskID` behave, from its next launch on.
    public func setBehaviour(_ behaviour: Behaviour, for taskID: TaskID) {
        self.state.withLock { $0.behaviours[taskID] = behaviour }
    }

    /// Ends containers on their deadlines until the calling task is cancelled; then pending waits fail with
    /// `AgentError.runtimeStopped`.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for await exit in self.exits {
                group.addTask {
                    do {
                        try await self.clock.sleep(until: exit.deadline, tolerance: nil)
                    } catch {
                        return
                    }
                    self.end(exit.containerID, exit.termination)
                }
            }
        }
        let waiters = self.state.withLock { state -> [Waiter] in
            state.stopped = true
            var waiters: [Waiter] = []
            for id in state.containers.keys {
                waiters += state.containers[id]?.waiters ?? []
                state.containers[id]?.waiters = []
            }
            return waiters
        }
        let stopped = AgentError(.runtimeStopped, "The fake container runtime stopped; its containers keep running.")
        for waiter in waiters { waiter.continuation.resume(throwing: stopped) }
    }

    /// Records the request and starts the container as its task's behaviour says.
    ///
    /// - Throws: `AgentError.launchFailed` for a task with a ``Behaviour/startError``.
    public func launch(_ request: ContainerLaunchRequest) async throws -> LaunchedContainer {
        let now = self.clock.now
        let (behaviour, pid) = self.state.withLock { state -> (Behaviour, Int32) in
            state.launched.append(request)
            let behaviour = state.behaviours[request.task.taskId] ?? state.defaultBehaviour
            if behaviour.startError == nil {
                state.containers[request.containerID] = Container(request: request, behaviour: behaviour)
            }
            return (behaviour, Int32(1000 + state.launched.count))
        }
        if let startError = behaviour.startError {
            throw AgentError(.launchFailed, "Cannot start task '\(request.task.taskId)': \(startError)")
        }
        if let runFor = behaviour.runFor {
            self.exitsContinuation.yield(
                Exit(
                    containerID: request.containerID,
                    deadline: now.advanced(by: runFor),
                    termination: ContainerTermination(status: .exited(code: behaviour.exitCode), killed: false)
                )
            )
        }
        return LaunchedContainer(containerID: request.containerID, pid: pid, startTime: UInt64(pid))
    }

    /// Returns how the container ended, once it has.
    ///
    /// - Throws: `AgentError.containerNotFound` for a container never launched, `AgentError.runtimeStopped` once
    ///   ``run()`` has returned, `CancellationError` when the caller is cancelled.
    public func wait(for container: ContainerID) async throws -> ContainerTermination {
        try Task.checkCancellation()
        let id = self.state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let outcome = self.state.withLock { state -> Result<ContainerTermination, any Error>? in
                    guard let entry = state.containers[container] else {
                        return .failure(AgentError(.containerNotFound, "No container '\(container)' was launched."))
                    }
                    if let termination = entry.termination { return .success(termination) }
                    if state.cancelledWaiters.remove(id) != nil { return .failure(CancellationError()) }
                    if state.stopped {
                        return .failure(AgentError(.runtimeStopped, "The fake container runtime is not running."))
                    }
                    state.containers[container]?.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> Waiter? in
                guard let index = state.containers[container]?.waiters.firstIndex(where: { $0.id == id }) else {
                    state.cancelledWaiters.insert(id)
                    return nil
                }
                return state.containers[container]?.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Records the kill and ends the container: at once with SIGTERM, or with SIGKILL after `gracePeriod` when its
    /// task ignores SIGTERM. Killing a container that has ended does nothing more.
    ///
    /// - Throws: `AgentError.containerNotFound` for a container never launched.
    public func kill(_ container: ContainerID, gracePeriod: Duration) async throws {
        let now = self.clock.now
        let ignoresSIGTERM = try self.state.withLock { state -> Bool? in
            state.killed.append(Kill(containerID: container, gracePeriod: gracePeriod))
            guard let entry = state.containers[container] else {
                throw AgentError(.containerNotFound, "No container '\(container)' was launched.")
            }
            guard entry.termination == nil, !entry.killed else { return nil }
            state.containers[container]?.killed = true
            return entry.behaviour.ignoresSIGTERM
        }
        switch ignoresSIGTERM {
        case nil:
            return
        case false?:
            self.end(container, ContainerTermination(status: .signaled(signal: 15), killed: true))
        case true?:
            self.exitsContinuation.yield(
                Exit(
                    containerID: container,
                    deadline: now.advanced(by: gracePeriod),
                    termination: ContainerTermination(status: .signaled(signal: 9), killed: true)
                )
            )
        }
    }

    /// Ends a container (unless it has ended already) and wakes its waiters.
    private func end(_ container: ContainerID, _ termination: ContainerTermination) {
        let (waiters, final) = self.state.withLock { state -> ([Waiter], ContainerTermination?) in
            guard var entry = state.containers[container], entry.termination == nil else { return ([], nil) }
            // A container that exits on its own while a kill is under way still reports the kill.
            let final = ContainerTermination(status: termination.status, killed: termination.killed || entry.killed)
            entry.termination = final
            let waiters = entry.waiters
            entry.waiters = []
            state.containers[container] = entry
            return (waiters, final)
        }
        guard let final else { return }
        for waiter in waiters { waiter.continuation.resume(returning: final) }
    }
}
