// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore
import ServiceLifecycle

/// The service scheduler's shell: feeds what happens to the pure ``SchedulerState`` machine and performs what it
/// decides (store writes, calls to the master, Marathon events, answers to API calls).
///
/// ``run()`` owns everything that runs, in one task group: the master subscription, the ticker (on the injected
/// clock), and each store write and batch of calls the machine asks for. It consumes one input stream, in which the
/// master's events, API calls, ticks and the completions of writes and calls arrive, and hands each to the machine in
/// turn. Cancelling ``run()`` (the leadership term ends) stops all of it: nothing outlives the term.
///
/// An API call (``createApp(_:)``, ``killTasks(appId:taskIDs:host:scale:force:)`` …) is an event carrying a ticket;
/// the caller waits until the machine answers it, which it does once the change is written and the calls it queued
/// are sent. Reads (``state``, ``healthResults``) see the machine between two events.
///
/// - Important: The machine decides write-ahead: instances are written before their offer is accepted, a status
///   update is acknowledged only after its effect is written, and an answer is given only after its change is
///   written. The shell only performs; a failed write is an event the machine handles.
public actor ServiceScheduler: Service {
    /// Settings of the service scheduler.
    public struct Configuration: Sendable {
        /// The framework name registered with the master. Defaults to `marathon`.
        public var frameworkName = "marathon"
        /// The user tasks run as when an app sets none. Defaults to `root`.
        public var user = "root"
        /// The role the framework subscribes with. Defaults to `*`.
        public var role: String {
            get { self.state.role }
            set { self.state.role = newValue }
        }
        /// How long the master keeps tasks after the scheduler disconnects. Defaults to one week.
        public var failoverTimeout: Double = 604_800
        /// The hostname advertised to the master.
        public var hostname = "127.0.0.1"
        /// The scheduler's own URL, shown in the master's UI.
        public var webuiURL: String?
        /// Refusal used when declining offers nothing is waiting for. Defaults to `120` seconds.
        public var declineOfferSeconds: Double {
            get { self.state.declineOfferSeconds }
            set { self.state.declineOfferSeconds = newValue }
        }
        /// Refusal used when declining offers that did not fit waiting instances. Defaults to `5` seconds.
        public var declineUnfitOfferSeconds: Double {
            get { self.state.declineUnfitOfferSeconds }
            set { self.state.declineUnfitOfferSeconds = newValue }
        }
        /// Refusal used when declining offers because the launch window (`state.maxLaunchesInFlight`) is full: short,
        /// so the offers come back as soon as running instances free slots. Defaults to `1` second (Mesos's
        /// allocation interval).
        public var declineThrottledOfferSeconds: Double {
            get { self.state.declineThrottledOfferSeconds }
            set { self.state.declineThrottledOfferSeconds = newValue }
        }
        /// Time between reconciliations with the master. Defaults to `600` seconds.
        public var reconciliationInterval: Duration {
            get { self.state.reconciliationInterval }
            set { self.state.reconciliationInterval = newValue }
        }
        /// Time after which a KILL with no answer is sent again. Defaults to `10` seconds.
        public var killRetryInterval: Duration {
            get { self.state.killRetryInterval }
            set { self.state.killRetryInterval = newValue }
        }
        /// Time between ticks (periodic work: reconciliation, retries, delays that ended). Defaults to `1` second.
        public var tickInterval: Duration = .seconds(1)
        /// Most calls to the master sent at once (ACCEPTs, ACKNOWLEDGEs of one batch). Defaults to `32`.
        public var maxConcurrentCalls = 32
        /// The machine's settings: launch pacing, service ports, refusals, cadences.
        public var state = SchedulerState.Configuration()
        public init() {}
    }

    private enum Phase {
        case idle
        case running
        case stopped
    }

    public nonisolated let configuration: Configuration
    /// The machine; only ``run()`` (and ``load()`` before it) changes it.
    private(set) var machine: SchedulerState
    private let store: any SchedulerStore
    private let connection: any MasterConnection
    let logger: Logger
    private let events: (any MarathonEventSink)?
    private let uptime: @Sendable () -> Duration
    private let sleep: @Sendable (Duration) async throws -> Void
    private let wallClock: @Sendable () -> Date
    /// The one input of ``run()``: everything the machine is told arrives here, in order.
    private let inputs: AsyncStream<SchedulerState.Event>
    private let input: AsyncStream<SchedulerState.Event>.Continuation
    private var phase = Phase.idle
    private var nextTicket: UInt64 = 0
    /// API calls waiting for their answer, by ticket.
    private var replies: [UInt64: CheckedContinuation<SchedulerState.CommandResult, any Error>] = [:]
    /// Callers of ``settle()`` waiting, by ticket.
    private var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]

    /// - Parameters:
    ///   - clock: measures delays and retries, and paces the ticks (`ContinuousClock` in production, a manual clock
    ///     in tests).
    ///   - wallClock: stamps versions and task times. Defaults to the system's.
    ///   - ids: makes the ids of new instances and deployments. Defaults to random UUIDs.
    ///   - events: receives Marathon events (`/v2/events`), if any.
    public init<C: Clock<Duration>>(
        configuration: Configuration,
        store: any SchedulerStore,
        connection: any MasterConnection,
        logger: Logger,
        clock: C,
        wallClock: @escaping @Sendable () -> Date = { Date() },
        ids: UUIDGenerator = .system,
        events: (any MarathonEventSink)? = nil
    ) {
        self.configuration = configuration
        self.machine = SchedulerState(configuration: configuration.state, ids: ids)
        self.store = store
        self.connection = connection
        self.logger = logger
        self.events = events
        let start = clock.now
        self.uptime = { start.duration(to: clock.now) }
        self.sleep = { try await clock.sleep(for: $0) }
        self.wallClock = wallClock
        let (inputs, input) = AsyncStream.makeStream(of: SchedulerState.Event.self, bufferingPolicy: .unbounded)
        self.inputs = inputs
        self.input = input
    }

    // MARK: - Reads

    /// The machine's state now: apps, instances, deployments, queue (a copy-on-write value).
    public var state: SchedulerState { self.machine }

    /// The framework id, once registered.
    public var frameworkID: FrameworkID? { self.machine.frameworkID }

    /// Whether subscribed to the master now.
    public var isSubscribed: Bool { self.machine.isSubscribed }

    /// Scheduler-run health check results by instance id.
    public var healthResults: [String: [HealthCheckResult]] { self.machine.healthResults }

    /// The store, for read-only API calls (versions).
    public var storeForReads: any SchedulerStore { self.store }

    /// Monotonic time now, as the scheduler sees it.
    public func uptimeNow() -> Duration { self.uptime() }

    /// The FrameworkInfo to subscribe with (reusing the stored id).
    public func frameworkInfo() -> FrameworkInfo {
        var info = FrameworkInfo(
            user: self.configuration.user,
            name: self.configuration.frameworkName,
            id: self.machine.frameworkID,
            failoverTimeout: self.configuration.failoverTimeout,
            checkpoint: true,
            roles: [self.configuration.role],
            hostname: self.configuration.hostname,
            capabilities: [
                .init(type: "MULTI_ROLE"), .init(type: "PARTITION_AWARE"), .init(type: "TASK_KILLING_STATE"),
            ]
        )
        info.webuiUrl = self.configuration.webuiURL
        return info
    }

    // MARK: - Lifecycle

    /// Loads apps, instances, deployments and the framework id from the store; call it before ``run()``.
    public func load() async throws {
        guard case .idle = self.phase else {
            throw SchedulerError(.notLeader, "The scheduler's state is loaded before it runs, not while or after.")
        }
        let apps = try await self.store.loadApps()
        let instances = try await self.store.loadInstances()
        let frameworkID = try await self.store.frameworkID()
        self.machine.load(apps: apps, instances: instances)
        self.machine.restoreFrameworkID(frameworkID)
        // Instances still running an earlier configuration keep its health checks across a restart.
        for (appId, version) in self.machine.unknownEarlierVersions {
            if let config = try await self.store.appVersion(id: appId, version: version) {
                self.machine.rememberEarlierConfig(config)
            }
        }
        // Resume stored deployments; an unconverged app without one (its plan was lost) gets a new one.
        self.machine.resumeDeployments(try await self.store.loadDeployments())
        self.logger.info(
            "Scheduler state loaded",
            metadata: [
                "apps": "\(apps.count)", "instances": "\(instances.count)",
                "framework.id": "\(frameworkID?.value ?? "none")",
            ]
        )
    }

    /// Subscribes to the master and schedules until cancelled or shut down gracefully; then every API call still
    /// waiting fails.
    public func run() async throws {
        guard case .idle = self.phase else {
            throw SchedulerError(.notLeader, "A scheduler runs once; a new leadership term makes a new one.")
        }
        self.phase = .running
        defer { self.stopped() }
        do {
            try await cancelWhenGracefulShutdown { try await self.schedule() }
        } catch is CancellationError {
            // Stopped as asked: the term ended or the process shuts down.
        }
    }

    /// The task group of ``run()``: the subscription, the ticker, and the writes and calls in flight, around the loop
    /// that hands the input to the machine.
    private func schedule() async throws {
        let input = self.input
        let connection = self.connection
        let sleep = self.sleep
        let tickInterval = self.configuration.tickInterval
        let (connectionEvents, connectionSink) = AsyncStream.makeStream(
            of: ConnectionEvent.self,
            bufferingPolicy: .unbounded
        )
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                do {
                    try await connection.run(frameworkInfo: { await self.frameworkInfo() }, events: connectionSink)
                } catch is CancellationError {}
            }
            group.addTask {
                for await event in connectionEvents { input.yield(.connection(event)) }
            }
            group.addTask {
                while true {
                    do { try await sleep(tickInterval) } catch { return }
                    input.yield(.tick)
                }
            }
            for await event in self.inputs {
                let actions = self.machine.handle(event, now: self.now())
                self.perform(actions, in: &group)
            }
            group.cancelAll()
        }
    }

    /// Ends the scheduler: nothing is handled anymore, and waiting API calls and settles are answered.
    private func stopped() {
        self.phase = .stopped
        self.input.finish()
        let replies = self.replies
        let waiters = self.waiters
        self.replies = [:]
        self.waiters = [:]
        for reply in replies.values {
            reply.resume(throwing: SchedulerError(.notLeader, "The scheduler stopped before answering; retry."))
        }
        for waiter in waiters.values { waiter.resume() }
    }

    private func now() -> SchedulerState.Now {
        SchedulerState.Now(uptime: self.uptime(), date: self.wallClock())
    }

    // MARK: - Performing actions

    private func perform(_ actions: [SchedulerState.Action], in group: inout ThrowingDiscardingTaskGroup<any Error>) {
        for action in actions {
            switch action {
            case .persist(let id, let writes):
                let store = self.store
                let input = self.input
                group.addTask {
                    let outcome = await Self.write(writes, to: store)
                    input.yield(.writeFinished(id, outcome))
                }
            case .send(let id, let calls):
                let connection = self.connection
                let input = self.input
                let limit = self.configuration.maxConcurrentCalls
                group.addTask {
                    let failures = await Self.send(calls, through: connection, atOnce: limit)
                    input.yield(.callsFinished(id, failures: failures.map { "\($0)" }))
                }
            case .publish(let event):
                self.events?.publish(event)
            case .reply(let id, let result):
                guard let reply = self.replies.removeValue(forKey: id.value) else { continue }
                switch result {
                case .success(let value): reply.resume(returning: value)
                case .failure(let error): reply.resume(throwing: error)
                }
            case .settled(let id):
                self.waiters.removeValue(forKey: id.value)?.resume()
            case .log(let record):
                self.logger.log(
                    level: record.level,
                    Logger.Message(stringLiteral: record.message),
                    metadata: record.metadata.mapValues { .string($0) }
                )
            }
        }
    }

    /// Performs writes one after another; the outcome is that of the first to fail, or success.
    static func write(
        _ writes: [SchedulerState.StoreWrite],
        to store: any SchedulerStore
    ) async
        -> SchedulerState.WriteOutcome
    {
        do {
            for write in writes {
                switch write {
                case .saveApp(let app, let changes): try await store.saveApp(app, deployments: changes)
                case .deleteApp(let id, let changes): try await store.deleteApp(id: id, deployments: changes)
                case .saveInstances(let instances): try await store.saveInstances(instances)
                case .deleteInstances(let ids): try await store.deleteInstances(ids: ids)
                case .updateDeployments(let changes): try await store.updateDeployments(changes)
                case .setFrameworkID(let id): try await store.setFrameworkID(id)
                }
            }
            return .succeeded
        } catch {
            return .failed(SchedulerState.StoreFailure(error))
        }
    }

    /// Sends calls to the master, up to `limit` at once, and returns the errors of those that failed.
    static func send(
        _ calls: [SchedulerCall],
        through connection: any MasterConnection,
        atOnce limit: Int
    ) async
        -> [any Error]
    {
        if calls.count == 1 {
            do {
                try await connection.send(calls[0])
                return []
            } catch {
                return [error]
            }
        }
        return await withTaskGroup(of: (any Error)?.self) { group in
            var failures: [any Error] = []
            var next = 0
            func start() {
                let call = calls[next]
                next += 1
                group.addTask {
                    do {
                        try await connection.send(call)
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            while next < calls.count && next < max(1, limit) { start() }
            while let result = await group.next() {
                if let result { failures.append(result) }
                if next < calls.count { start() }
            }
            return failures
        }
    }

    // MARK: - Events from outside

    /// Tells the machine what the master connection reported (tests and tools; ``run()`` is fed by its own
    /// connection). A status update returns at once (it is written with the others that arrive meanwhile); any other
    /// event returns once it and everything before it is done (see ``settle()``).
    public func handle(_ event: ConnectionEvent) async {
        self.input.yield(.connection(event))
        if case .event(let event) = event, event.type == .update { return }
        await self.settle()
    }

    /// Runs periodic work now (reconciliation when due, retries, delays that ended) and returns once it is done.
    public func tick() async {
        self.input.yield(.tick)
        await self.settle()
    }

    /// Waits until every event received so far is handled (status updates applied, written or undone, and
    /// acknowledged) and every call to the master decided so far is sent. Returns at once when not running.
    public func settle() async {
        guard self.phase != .stopped else { return }
        let ticket = self.takeTicket()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            self.waiters[ticket] = continuation
            self.input.yield(.settle(SchedulerState.WaiterID(ticket)))
        }
    }

    /// Hands an API call to the machine and waits for its answer.
    func command(_ command: SchedulerState.Command) async throws -> SchedulerState.CommandResult {
        guard self.phase != .stopped else {
            throw SchedulerError(.notLeader, "The scheduler has stopped; retry against the leading scheduler.")
        }
        let ticket = self.takeTicket()
        return try await withCheckedThrowingContinuation { continuation in
            self.replies[ticket] = continuation
            self.input.yield(.command(SchedulerState.CommandID(ticket), command))
        }
    }

    private func takeTicket() -> UInt64 {
        defer { self.nextTicket += 1 }
        return self.nextTicket
    }
}
