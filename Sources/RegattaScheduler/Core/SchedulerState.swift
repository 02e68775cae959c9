// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// The last failure of an app's task, for `lastTaskFailure`.
public struct TaskFailure: Codable, Hashable, Sendable {
    public var appId: String
    public var host: String
    public var message: String
    public var state: String
    public var taskId: String
    public var timestamp: String
    public var version: String
    public var slaveId: String?
}

/// A launch decided for one offer: write the instances first, then accept the offer with the tasks.
public struct PlannedLaunch: Sendable, Equatable {
    public var offer: Offer
    public var tasks: [TaskInfo]
    public var instances: [Instance]
}

/// How offers fared against an app's waiting instances since its last configuration change (`/v2/queue`).
public struct OfferStatistics: Codable, Sendable, Hashable {
    public var processedOffersCount = 0
    public var unusedOffersCount = 0
    public var lastUnusedOfferAt: String?
    public var lastUsedOfferAt: String?
    /// Marathon's reject reason (InsufficientCpus, InsufficientMemory, InsufficientDisk, InsufficientGpus,
    /// InsufficientPorts, UnfulfilledRole, UnfulfilledConstraint) → offers declined for it.
    public var rejections: [String: Int] = [:]
    public init() {}
}

/// What to do after a status update.
public struct UpdateOutcome: Sendable, Equatable {
    /// Persist this instance (its state changed).
    public var save: Instance?
    /// Delete this instance (its task ended).
    public var delete: Instance?
    /// Kill this task: the scheduler does not know it.
    public var killUnknown: Bool
}

/// The service scheduler's decisions as a pure state machine.
///
/// It holds the apps, instances, deployments and launch queue, and everything the scheduler must remember to decide
/// what to do next: what the store holds, which write and which calls to the master are in flight, which API calls
/// wait for an answer. The shell, ``ServiceScheduler``, feeds it ``Event``s with the time they happen
/// (``handle(_:now:)``) and performs the ``Action``s it returns: store writes, calls to the master, Marathon events,
/// replies.
///
/// No I/O, no awaits, no clock reads and no randomness of its own: time comes with each event and ids from the
/// ``UUIDGenerator`` it was made with, so a test replays a run exactly.
///
/// The machine is split by concern: apps (`+Apps`), deployments (`+Deployments`), placement of instances on offers
/// (`+Placement`), what offers and `REVIVE`/`SUPPRESS` are answered with (`+Offers`), status updates
/// (`+StatusUpdates`), desired against actual instances (`+Convergence`), kills (`+Kills`), API commands
/// (`+Commands`), the store writes (`+Persistence`), the calls to the master (`+Calls`), and the order in which
/// events are worked on (`+Pipeline`).
///
/// - Important: Write-ahead is state. An ACCEPT is emitted only once the write of the instances it launches has
///   finished; a status update is acknowledged only once its effect is written; an API call is answered only once
///   its change is written. One write is in flight at a time: status updates that arrive meanwhile are written
///   together by the next one, and other events wait their turn.
public struct SchedulerState: Sendable {
    /// Settings of the scheduler's decisions.
    ///
    /// `regatta scheduler` sets these through ``ServiceScheduler/Configuration``.
    public struct Configuration: Sendable {
        /// Most instances launched on one offer. Defaults to `100`.
        ///
        /// A round's launches are spread over its offers: each offer takes at most ⌈launchable ÷ offers⌉
        /// (and never more than this), so a large deployment lands on many agents at once instead of filling
        /// the first offers.
        public var maxInstancesPerOffer = 100
        /// Most instances launched but not yet running (`TASK_STAGING`, `TASK_STARTING`) at once. While this many
        /// are in flight, offers launch nothing more. Defaults to `2000`.
        ///
        /// Flow control, as Marathon's launch tokens: without it a deployment of 100,000 instances is sent to the
        /// master in one round and the master, the agents and this scheduler drown in the burst (status updates
        /// late, agents' pings starved). Each `TASK_RUNNING` (or end) frees a slot.
        public var maxLaunchesInFlight = 2000
        /// Lowest service port handed out. Defaults to `10000`.
        public var localPortMin = 10000
        /// Highest service port handed out. Defaults to `20000`.
        public var localPortMax = 20000
        /// Refusal, in seconds, of offers declined because nothing waits for them. Defaults to `120`.
        public var declineOfferSeconds: Double = 120
        /// Refusal, in seconds, of offers declined because they did not fit the waiting instances. Defaults to `5`.
        public var declineUnfitOfferSeconds: Double = 5
        /// Refusal, in seconds, of offers declined because the launch window (``maxLaunchesInFlight``) is full:
        /// short, so the offers come back as soon as running instances free slots. Defaults to `1` (Mesos's
        /// allocation interval).
        public var declineThrottledOfferSeconds: Double = 1
        /// Time between reconciliations with the master. Defaults to `600` seconds.
        public var reconciliationInterval: Duration = .seconds(600)
        /// Time after which a KILL with no answer is sent again. Defaults to `10` seconds.
        public var killRetryInterval: Duration = .seconds(10)
        /// The role `REVIVE` and `SUPPRESS` name (the role the framework subscribes with). Defaults to `*`.
        public var role = "*"
        public init() {}
    }

    public var configuration: Configuration

    // MARK: Apps, instances and deployments

    public internal(set) var apps: [String: AppDefinition] = [:]
    /// Earlier configurations of apps that still have instances of them, by app id and ``AppDefinition/configVersion``:
    /// an instance is health-checked with the checks it was launched with (Marathon keeps each version's checks while
    /// instances of it run), so a rolling upgrade that changes a check never judges old instances by the new one.
    public internal(set) var earlierConfigs: [String: [String: AppDefinition]] = [:]
    public internal(set) var instances: [String: Instance] = [:]
    public internal(set) var deployments: [String: Deployment] = [:]
    /// Launch delays of apps whose tasks failed.
    public internal(set) var backoff = LaunchBackoff()
    public internal(set) var lastTaskFailures: [String: TaskFailure] = [:]
    var instanceByTask: [TaskID: String] = [:]
    var instanceIDsByApp: [String: Set<String>] = [:]
    /// Tallies of each app's instances, kept in step with `instances` by ``put(_:)`` and ``remove(_:)``.
    var countsByApp: [String: AppInstanceCounts] = [:]
    /// Instances launched and not yet running nor ended (`TASK_STAGING`, `TASK_STARTING`), kept in step like
    /// `countsByApp`; bounded by `Configuration.maxLaunchesInFlight`.
    public internal(set) var launchesInFlight = 0
    /// Offer matching statistics per app since its last configuration change, for `/v2/queue`.
    public internal(set) var offerStatistics: [String: OfferStatistics] = [:]
    /// Consecutive offers an app's waiting instance was refused only by constraints (drives the stuck-rollout breaker).
    var constraintStalls: [String: Int] = [:]
    /// When each unreachable instance became unreachable (monotonic), for `unreachableStrategy`.
    var unreachableSince: [String: Duration] = [:]
    /// Where each instance runs, for constraints.
    var placements: [String: ConstraintMatcher.Placement] = [:]
    /// Scheduler-run health check results by instance id.
    public internal(set) var healthResults: [String: [HealthCheckResult]] = [:]

    // MARK: The machine

    /// The subscription to the master and what the scheduler has told it.
    var link = MasterLink()
    /// What the store holds that memory does not (and the reverse).
    var persistence = Persistence()
    /// The write in flight and the events waiting for the next.
    var pipeline = Pipeline()
    /// The calls to the master waiting to be sent, and the one batch being sent.
    var calls = CallQueue()
    /// Ids of new instances and deployments.
    var ids: UUIDGenerator
    /// The last version timestamp handed out, in milliseconds since 1970 (they strictly increase).
    var lastVersionMillis = Int64.min

    /// A state with no apps, using `ids` for new instance and deployment ids.
    ///
    /// - Parameter ids: defaults to random UUIDs from the system's generator.
    public init(configuration: Configuration = Configuration(), ids: UUIDGenerator = .system) {
        self.configuration = configuration
        self.ids = ids
    }

    /// The framework id the scheduler registered with, once known.
    public var frameworkID: FrameworkID? { self.link.frameworkID }

    /// Whether the scheduler is subscribed to the master now.
    public var isSubscribed: Bool { self.link.isSubscribed }

    /// Launch delays by app id (Marathon's backoff), for `/v2/queue`.
    public var delays: [String: LaunchDelay] { self.backoff.delays }

    // MARK: - Loading

    /// Replaces the apps and instances with what the store holds (scheduler start or leader election).
    public mutating func load(apps: [AppDefinition], instances: [Instance]) {
        self.apps = Dictionary(uniqueKeysWithValues: apps.map { ($0.id, $0) })
        self.earlierConfigs = [:]
        self.instances = [:]
        self.instanceByTask = [:]
        self.instanceIDsByApp = [:]
        self.countsByApp = [:]
        self.launchesInFlight = 0
        self.placements = [:]
        for instance in instances { self.insert(instance) }
    }

    // MARK: - Instance bookkeeping

    /// Stores an instance (new or changed) and keeps its app's tallies in step.
    mutating func put(_ instance: Instance) {
        if let previous = self.instances.updateValue(instance, forKey: instance.id) {
            self.uncount(previous)
        }
        self.countsByApp[instance.appId, default: AppInstanceCounts()].add(instance)
        if Self.isInFlight(instance) { self.launchesInFlight += 1 }
    }

    /// Whether `maxLaunchesInFlight` instances are launched and not yet running: offers launch nothing now.
    public var isLaunchWindowFull: Bool {
        self.launchesInFlight >= self.configuration.maxLaunchesInFlight
    }

    /// Whether an instance holds a launch slot: launched, not yet running, not ended.
    static func isInFlight(_ instance: Instance) -> Bool {
        instance.state == .staging || instance.state == .starting
    }

    private mutating func uncount(_ instance: Instance) {
        if Self.isInFlight(instance) { self.launchesInFlight -= 1 }
        self.countsByApp[instance.appId]?.subtract(instance)
        if self.countsByApp[instance.appId]?.isEmpty == true { self.countsByApp[instance.appId] = nil }
    }

    mutating func insert(_ instance: Instance) {
        self.put(instance)
        self.instanceByTask[instance.taskId] = instance.id
        self.instanceIDsByApp[instance.appId, default: []].insert(instance.id)
        if let host = instance.host, self.placements[instance.id] == nil {
            self.placements[instance.id] = ConstraintMatcher.Placement(hostname: host, attributes: [])
        }
    }

    mutating func remove(_ id: String) {
        guard let instance = self.instances.removeValue(forKey: id) else { return }
        self.uncount(instance)
        if self.earlierConfigs[instance.appId]?[instance.version] != nil,
            self.countsByApp[instance.appId]?.byVersion[instance.version] == nil
        {
            self.forgetEarlierConfig(appId: instance.appId, version: instance.version)
        }
        self.instanceByTask[instance.taskId] = nil
        self.instanceIDsByApp[instance.appId]?.remove(id)
        if self.instanceIDsByApp[instance.appId]?.isEmpty == true { self.instanceIDsByApp[instance.appId] = nil }
        self.placements[id] = nil
        self.unreachableSince[id] = nil
    }

    /// Puts back an instance as it was (a status update whose write failed is undone, to be redelivered).
    public mutating func restore(_ instance: Instance) {
        self.insert(instance)
    }

    /// Forgets instances whose launch could not be persisted or accepted.
    public mutating func rollback(_ instances: [Instance]) {
        for instance in instances { self.remove(instance.id) }
    }

    // MARK: - Lookups

    /// The instance running `task`, if any.
    public func instance(forTask task: TaskID) -> Instance? {
        self.instanceByTask[task].flatMap { self.instances[$0] }
    }

    /// An app's instances, sorted by id.
    public func instances(ofApp appId: String) -> [Instance] {
        (self.instanceIDsByApp[appId] ?? []).sorted().compactMap { self.instances[$0] }
    }

    /// An app's instances in no particular order, for decisions where order is not observable.
    func unorderedInstances(ofApp appId: String) -> [Instance] {
        (self.instanceIDsByApp[appId] ?? []).compactMap { self.instances[$0] }
    }

    /// How many of an app's instances are active and `TASK_RUNNING`: O(1), from the app's tallies.
    public func runningCount(ofApp appId: String) -> Int {
        self.countsByApp[appId]?.activeRunningTotal ?? 0
    }

    /// The deployments touching an app.
    public func deployments(ofApp appId: String) -> [Deployment] {
        self.deployments.values.filter { $0.appId == appId }.sorted { $0.id < $1.id }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? {
        self.indices.contains(index) ? self[index] : nil
    }
}
