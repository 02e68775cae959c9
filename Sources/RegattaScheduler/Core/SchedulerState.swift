// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// The launch delay of an app after failures (Marathon's backoff).
public struct LaunchDelay: Sendable, Hashable {
    /// The current delay in seconds.
    public var seconds: Double
    /// No launch before this time.
    public var until: Duration
}

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

/// The service scheduler's decisions as a pure state machine: apps, instances, deployments and the launch queue.
///
/// No I/O, no clock reads: `now` is monotonic time and `timestamp` an ISO 8601 string, both passed in.
public struct SchedulerState: Sendable {
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
        public init() {}
    }

    public var configuration: Configuration
    public private(set) var apps: [String: AppDefinition] = [:]
    /// Earlier configurations of apps that still have instances of them, by app id and ``AppDefinition/configVersion``:
    /// an instance is health-checked with the checks it was launched with (Marathon keeps each version's checks while
    /// instances of it run), so a rolling upgrade that changes a check never judges old instances by the new one.
    public private(set) var earlierConfigs: [String: [String: AppDefinition]] = [:]
    public private(set) var instances: [String: Instance] = [:]
    public private(set) var deployments: [String: Deployment] = [:]
    public private(set) var delays: [String: LaunchDelay] = [:]
    public private(set) var lastTaskFailures: [String: TaskFailure] = [:]
    private var instanceByTask: [TaskID: String] = [:]
    private var instanceIDsByApp: [String: Set<String>] = [:]
    /// Tallies of each app's instances, kept in step with `instances` by ``put(_:)`` and ``remove(_:)``.
    private var countsByApp: [String: AppInstanceCounts] = [:]
    /// Instances launched and not yet running nor ended (`TASK_STAGING`, `TASK_STARTING`), kept in step like
    /// `countsByApp`; bounded by `Configuration.maxLaunchesInFlight`.
    public private(set) var launchesInFlight = 0
    /// Offer matching statistics per app since its last configuration change, for `/v2/queue`.
    public private(set) var offerStatistics: [String: OfferStatistics] = [:]
    /// Consecutive offers an app's waiting instance was refused only by constraints (drives the stuck-rollout breaker).
    private var constraintStalls: [String: Int] = [:]
    /// When each unreachable instance became unreachable (monotonic), for `unreachableStrategy`.
    private var unreachableSince: [String: Duration] = [:]
    /// Where each instance runs, for constraints.
    private var placements: [String: ConstraintMatcher.Placement] = [:]

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    // MARK: - Loading

    /// Replaces the state with what the store holds (scheduler start or leader election).
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

    /// Stores an instance (new or changed) and keeps its app's tallies in step.
    private mutating func put(_ instance: Instance) {
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
    private static func isInFlight(_ instance: Instance) -> Bool {
        instance.state == .staging || instance.state == .starting
    }

    private mutating func uncount(_ instance: Instance) {
        if Self.isInFlight(instance) { self.launchesInFlight -= 1 }
        self.countsByApp[instance.appId]?.subtract(instance)
        if self.countsByApp[instance.appId]?.isEmpty == true { self.countsByApp[instance.appId] = nil }
    }

    private mutating func insert(_ instance: Instance) {
        self.put(instance)
        self.instanceByTask[instance.taskId] = instance.id
        self.instanceIDsByApp[instance.appId, default: []].insert(instance.id)
        if let host = instance.host, self.placements[instance.id] == nil {
            self.placements[instance.id] = ConstraintMatcher.Placement(hostname: host, attributes: [])
        }
    }

    private mutating func remove(_ id: String) {
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

    private mutating func forgetEarlierConfig(appId: String, version: String) {
        self.earlierConfigs[appId]?[version] = nil
        if self.earlierConfigs[appId]?.isEmpty == true { self.earlierConfigs[appId] = nil }
    }

    /// The configuration `instance` was launched with: the app's current one, or the earlier one it still runs
    /// (``earlierConfigs``), or the current one when that earlier one is not known (it was not in the store).
    public func config(of instance: Instance) -> AppDefinition? {
        guard let app = self.apps[instance.appId] else { return nil }
        if instance.version == app.configVersion { return app }
        return self.earlierConfigs[instance.appId]?[instance.version] ?? app
    }

    /// Remembers an earlier configuration of an app that instances still run (when loading them after a restart);
    /// ignored when no instance of it is left or it is the current one.
    public mutating func rememberEarlierConfig(_ config: AppDefinition) {
        guard let app = self.apps[config.id], config.configVersion != app.configVersion,
            self.countsByApp[config.id]?.byVersion[config.configVersion] != nil
        else { return }
        self.earlierConfigs[config.id, default: [:]][config.configVersion] = config
    }

    /// The versions instances run that are neither their app's current configuration nor remembered.
    public var unknownEarlierVersions: [(appId: String, version: String)] {
        var missing: [(appId: String, version: String)] = []
        for (appId, counts) in self.countsByApp.sorted(by: { $0.key < $1.key }) {
            guard let app = self.apps[appId] else { continue }
            for version in counts.byVersion.keys.sorted()
            where version != app.configVersion && self.earlierConfigs[appId]?[version] == nil {
                missing.append((appId, version))
            }
        }
        return missing
    }

    /// The instance running `task`, if any.
    public func instance(forTask task: TaskID) -> Instance? {
        self.instanceByTask[task].flatMap { self.instances[$0] }
    }

    /// An app's instances, sorted by id.
    public func instances(ofApp appId: String) -> [Instance] {
        (self.instanceIDsByApp[appId] ?? []).sorted().compactMap { self.instances[$0] }
    }

    /// An app's instances in no particular order, for decisions where order is not observable.
    /// How many of an app's instances are active and `TASK_RUNNING`: O(1), from the app's tallies.
    public func runningCount(ofApp appId: String) -> Int {
        self.countsByApp[appId]?.activeRunningTotal ?? 0
    }

    private func unorderedInstances(ofApp appId: String) -> [Instance] {
        (self.instanceIDsByApp[appId] ?? []).compactMap { self.instances[$0] }
    }

    /// The deployments touching an app.
    public func deployments(ofApp appId: String) -> [Deployment] {
        self.deployments.values.filter { $0.appId == appId }.sorted { $0.id < $1.id }
    }

    // MARK: - App changes

    /// Prepares a new or changed app for storing: sets version, versionInfo and service ports.
    ///
    /// - Returns: the app to store and the deployment action it starts.
    /// - Parameter restart: force a new configuration version (Marathon's `/restart`), replacing every instance.
    public func prepare(_ app: AppDefinition, timestamp: String, restart: Bool = false)
        -> (app: AppDefinition, action: String)
    {
        var app = app
        let existing = self.apps[app.id]
        app.version = timestamp
        app.portDefinitions = self.assignServicePorts(app.portDefinitions, app: app.id, previous: existing)
        if let existing, app.differsOnlyInScale(from: existing), !restart {
            app.versionInfo = VersionInfo(
                lastScalingAt: timestamp,
                lastConfigChangeAt: existing.versionInfo?.lastConfigChangeAt ?? existing.version ?? timestamp)
        } else {
            app.versionInfo = VersionInfo(lastScalingAt: timestamp, lastConfigChangeAt: timestamp)
        }
        let action: String
        if existing == nil {
            action = "StartApplication"
        } else if app.differsOnlyInScale(from: existing!) && !restart {
            action = "ScaleApplication"
        } else {
            action = "RestartApplication"
        }
        return (app, action)
    }

    private func assignServicePorts(_ definitions: [PortDefinition], app: String, previous: AppDefinition?)
        -> [PortDefinition]
    {
        var used = Set(self.apps.values.filter { $0.id != app }.flatMap { $0.portDefinitions.map(\.port) })
        var next = self.configuration.localPortMin
        return definitions.enumerated().map { index, definition in
            var definition = definition
            guard definition.port == 0 else { return definition }
            if let previousPort = previous?.portDefinitions[safe: index]?.port, previousPort != 0,
                !used.contains(previousPort)
            {
                definition.port = previousPort
            } else {
                while used.contains(next) && next < self.configuration.localPortMax { next += 1 }
                definition.port = next
            }
            used.insert(definition.port)
            return definition
        }
    }

    /// Records a stored app and its deployment. A config change resets the app's launch delay.
    public mutating func commit(_ app: AppDefinition, deployment: Deployment) {
        let previous = self.apps[app.id]
        self.apps[app.id] = app
        if let previous, previous.configVersion != app.configVersion {
            self.rememberEarlierConfig(previous)
        }
        if previous?.configVersion != app.configVersion {
            self.delays[app.id] = nil
            self.offerStatistics[app.id] = nil
            self.constraintStalls[app.id] = nil
        }
        for existing in self.deployments(ofApp: app.id) { self.deployments[existing.id] = nil }
        self.deployments[deployment.id] = deployment
    }

    /// Removes an app: its instances are marked for killing and returned.
    public mutating func removeApp(_ id: String, deployment: Deployment) -> [Instance] {
        self.apps[id] = nil
        self.earlierConfigs[id] = nil
        self.delays[id] = nil
        self.offerStatistics[id] = nil
        self.constraintStalls[id] = nil
        for existing in self.deployments(ofApp: id) { self.deployments[existing.id] = nil }
        var killed: [Instance] = []
        for var instance in self.instances(ofApp: id) where !instance.killRequested {
            instance.killRequested = true
            self.put(instance)
            killed.append(instance)
        }
        if !killed.isEmpty { self.deployments[deployment.id] = deployment }
        return killed
    }

    /// Marks instances for killing on an API request. With `scale` they are not replaced (the caller has
    /// already stored the app with fewer instances); without it they are replaced once their task ends.
    public mutating func requestKill(_ ids: [String], scale: Bool) -> [Instance] {
        var killed: [Instance] = []
        for id in ids {
            guard var instance = self.instances[id] else { continue }
            instance.killRequested = instance.killRequested || scale
            self.put(instance)
            killed.append(instance)
        }
        return killed
    }

    /// Restores deployments loaded from the store (those of apps that no longer exist are dropped).
    public mutating func restoreDeployments(_ deployments: [Deployment]) {
        for deployment in deployments where self.apps[deployment.appId] != nil || deployment.action == "StopApplication" {
            self.deployments[deployment.id] = deployment
        }
    }

    /// Forgets a deployment without changing its app (`DELETE /v2/deployments/{id}?force=true`).
    public mutating func dropDeployment(_ id: String) {
        self.deployments[id] = nil
    }

    /// Resets an app's launch delay (`DELETE /v2/queue/{id}/delay`).
    public mutating func resetDelay(_ appId: String) {
        self.delays[appId] = nil
    }

    // MARK: - Desired vs actual

    /// Instances of the app's current version that count toward its target. An unreachable instance counts until
    /// `unreachableStrategy.inactiveAfterSeconds` has passed (then a replacement is launched).
    public func activeCurrent(_ app: AppDefinition, now: Duration? = nil) -> [Instance] {
        self.instances(ofApp: app.id).filter {
            $0.isActive && $0.version == app.configVersion && !self.isInactive($0, app: app, now: now)
        }
    }

    /// Whether an unreachable instance no longer counts (its `inactiveAfterSeconds` passed, or the strategy is
    /// disabled... in which case it always counts).
    func isInactive(_ instance: Instance, app: AppDefinition, now: Duration?) -> Bool {
        guard instance.state == .unreachable else { return false }
        guard let inactiveAfter = app.unreachableStrategy.inactiveAfterSeconds else { return false }
        guard let since = self.unreachableSince[instance.id], let now else { return inactiveAfter <= 0 }
        return now - since >= Saturating.duration(seconds: inactiveAfter)
    }

    /// Whether an instance can replace an old one: running, and healthy when the app has health checks.
    public func isReady(_ instance: Instance, app: AppDefinition) -> Bool {
        guard instance.state == .running else { return false }
        return app.healthChecks.isEmpty || instance.healthy == true
    }

    /// How many of `activeCurrent(app, now:)` there are: O(1) from the app's tallies, unless an unreachable
    /// instance may have stopped counting (then the instances are walked).
    private func activeCurrentCount(_ app: AppDefinition, now: Duration?) -> Int {
        let counts = self.countsByApp[app.id] ?? AppInstanceCounts()
        if counts.activeUnreachable > 0 && app.unreachableStrategy.inactiveAfterSeconds != nil {
            return self.unorderedInstances(ofApp: app.id).count {
                $0.isActive && $0.version == app.configVersion && !self.isInactive($0, app: app, now: now)
            }
        }
        return counts.active[app.configVersion] ?? 0
    }

    /// Active instances of versions other than the app's current one.
    private func activeOldCount(_ app: AppDefinition) -> Int {
        let counts = self.countsByApp[app.id] ?? AppInstanceCounts()
        return counts.activeTotal - (counts.active[app.configVersion] ?? 0)
    }

    /// How many instances of `app` wait for an offer.
    public func pendingCount(_ app: AppDefinition, now: Duration? = nil) -> Int {
        let current = self.activeCurrentCount(app, now: now)
        let oldCount = self.activeOldCount(app)
        guard oldCount > 0 else { return max(0, app.instances - current) }
        let counts = self.countsByApp[app.id] ?? AppInstanceCounts()
        let oldRunning = counts.activeRunningTotal - (counts.activeRunning[app.configVersion] ?? 0)
        // Rolling replacement (Marathon's rule): never more than maxCapacity instances in all, but allow one
        // extra when the health capacity would otherwise leave no room to start anything.
        var capacity = Int(saturating: (Double(app.instances) * (1 + app.upgradeStrategy.maximumOverCapacity)).rounded(.down))
        let minHealthy = Int(saturating: (Double(app.instances) * app.upgradeStrategy.minimumHealthCapacity).rounded(.up))
        if minHealthy == capacity && capacity <= oldRunning {
            capacity += 1
        }
        let room = max(0, capacity - oldCount - current)
        return max(0, min(app.instances - current, room))
    }

    /// Whether an app may launch now (its backoff delay has passed).
    public func isDelayed(_ appId: String, now: Duration) -> Bool {
        guard let delay = self.delays[appId] else { return false }
        return delay.until > now
    }

    /// Whether any app waits for offers now.
    public func wantsOffers(now: Duration) -> Bool {
        self.apps.values.contains { self.pendingCount($0, now: now) > 0 && !self.isDelayed($0.id, now: now) }
    }

    /// Whether any app waits for offers now or after its delay.
    public var hasPendingLaunches: Bool {
        self.apps.values.contains { self.pendingCount($0) > 0 }
    }

    /// Instances to kill now: surplus after a scale-down and old versions replaced by ready new ones.
    /// They are marked `killRequested` and returned so the shell persists them and sends KILL.
    ///
    /// Which copy survives when an unreachable instance returns after its replacement started: the app's
    /// `killSelection` decides among the surplus, so with the default `YOUNGEST_FIRST` the returning original stays
    /// and the replacement is killed.
    public mutating func computeKills(now: Duration? = nil) -> [Instance] {
        var kills: [Instance] = []
        // Only apps with a surplus or an old version left, decided from the tallies (the common case is none): this
        // runs after every change, so it must not copy or sort every app.
        let due = self.apps.values.filter {
            self.activeOldCount($0) != 0 || self.activeCurrentCount($0, now: now) > $0.instances
        }
        for app in due.sorted(by: { $0.id < $1.id }) {
            // Kills are ordered below by a total order, so the instances need not be sorted here.
            let all = self.unorderedInstances(ofApp: app.id).filter(\.isActive)
            let current = all.filter { $0.version == app.configVersion && !self.isInactive($0, app: app, now: now) }
            let old = all.filter { $0.version != app.configVersion }
            // Scale down: not-yet-running first, then by killSelection.
            if current.count > app.instances {
                let ordered = current.sorted { lhs, rhs in
                    if (lhs.state == .running) != (rhs.state == .running) { return lhs.state != .running }
                    return app.killSelection == "OLDEST_FIRST"
                        ? (lhs.stagedAt, lhs.id) < (rhs.stagedAt, rhs.id) : (lhs.stagedAt, lhs.id) > (rhs.stagedAt, rhs.id)
                }
                kills += ordered.prefix(current.count - app.instances)
            }
            // Rolling replacement: keep enough old instances to honour minimumHealthCapacity, counting only new
            // instances that are ready (running, and healthy when the app has health checks).
            if !old.isEmpty {
                let readyNew = min(current.filter { self.isReady($0, app: app) }.count, app.instances)
                let minHealthy = Int(saturating: (Double(app.instances) * app.upgradeStrategy.minimumHealthCapacity).rounded(.up))
                var keep = max(0, min(old.count, minHealthy - readyNew, app.instances - readyNew))
                // Stuck-rollout breaker: constraints (e.g. hostname:UNIQUE on a full cluster) refuse every offer
                // because old instances hold the places, and nothing new is starting. Marathon waits forever here;
                // Regatta gives up one old instance to make room.
                let starting = current.contains { $0.state != .running }
                if keep > 0, !starting, (self.constraintStalls[app.id] ?? 0) >= Self.stallsBeforeBreaking {
                    keep -= 1
                    self.constraintStalls[app.id] = 0
                }
                let ordered = old.sorted { (lhs, rhs) in
                    if (lhs.state == .running) != (rhs.state == .running) { return lhs.state != .running }
                    return (lhs.stagedAt, lhs.id) < (rhs.stagedAt, rhs.id)
                }
                kills += ordered.prefix(old.count - keep)
            }
        }
        for index in kills.indices {
            kills[index].killRequested = true
            self.put(kills[index])
        }
        return kills
    }

    /// Consecutive constraint-only refusals after which a stuck rolling restart gives up one old instance.
    static let stallsBeforeBreaking = 3

    /// Unreachable instances past their app's `expungeAfterSeconds`: removed and returned so the shell deletes
    /// them. If such a task ever comes back, it is unknown to the scheduler and killed.
    public mutating func expungeUnreachable(now: Duration) -> [Instance] {
        var expunged: [Instance] = []
        for (id, since) in self.unreachableSince.sorted(by: { $0.key < $1.key }) {
            guard let instance = self.instances[id], instance.state == .unreachable,
                let app = self.apps[instance.appId],
                let expungeAfter = app.unreachableStrategy.expungeAfterSeconds,
                now - since >= Saturating.duration(seconds: expungeAfter)
            else { continue }
            // With expunge 0 the instance is replaced but kept until it is at least inactive.
            guard self.isInactive(instance, app: app, now: now) else { continue }
            self.remove(id)
            expunged.append(instance)
        }
        return expunged
    }

    /// Deployments whose target is reached; they are removed and returned.
    public mutating func completeDeployments() -> [Deployment] {
        // Runs after every change: walk the deployments in place and sort only the finished ones.
        var done = self.deployments.values.filter { deployment in
            let counts = self.countsByApp[deployment.appId] ?? AppInstanceCounts()
            guard let app = self.apps[deployment.appId] else { return counts.isEmpty }
            // Ready instances of the current version are the target, and nothing else is left.
            let currentActive = counts.active[app.configVersion] ?? 0
            let ready = counts.ready(version: app.configVersion, healthChecked: !app.healthChecks.isEmpty)
            return ready == app.instances && counts.total == currentActive
        }
        done.sort { $0.id < $1.id }
        for deployment in done { self.deployments[deployment.id] = nil }
        return done
    }

    // MARK: - Offers

    /// Matches offers against the launch queue. Planned instances are added to the state at once;
    /// if persisting them fails, call ``rollback(_:)``.
    ///
    /// - Parameter makeUUID: yields a fresh UUID string per instance.
    /// - Returns: launches, and the offers nothing was launched on (to decline).
    public mutating func match(
        offers: [Offer], now: Duration, timestamp: String, makeUUID: () -> String
    ) -> (launches: [PlannedLaunch], unused: [OfferID]) {
        var launches: [PlannedLaunch] = []
        var unused: [OfferID] = []
        let apps = self.apps.values.filter { !self.isDelayed($0.id, now: now) }.sorted { $0.id < $1.id }
        var pending: [String: Int] = [:]
        for app in apps { pending[app.id] = self.pendingCount(app, now: now) }
        /// The apps still waiting for instances this round, in id order; an app leaves once it has none left.
        var waiting = apps.filter { pending[$0.id, default: 0] > 0 }
        // Flow control: launch no more than the free launch slots, spread over the round's offers.
        var budget = min(
            waiting.reduce(0) { $0 + pending[$1.id, default: 0] },
            max(0, self.configuration.maxLaunchesInFlight - self.launchesInFlight))
        let perOffer = offers.isEmpty
            ? 0 : min(self.configuration.maxInstancesPerOffer, (budget + offers.count - 1) / offers.count)
        // Each constrained app's placed values, tallied once per round and extended as we place: checking an offer
        // allocates nothing and rescans nothing.
        var placedByApp: [String: ConstraintTally] = [:]
        for offer in offers {
            guard !waiting.isEmpty, budget > 0 else {
                unused.append(offer.id)
                continue
            }
            let limit = min(perOffer, budget)
            var remaining = offer.bag
            var ports = remaining.ranges("ports")
            var tasks: [TaskInfo] = []
            var planned: [Instance] = []
            var filled = false
            let placement = ConstraintMatcher.Placement(hostname: offer.hostname, attributes: offer.attributes ?? [])
            for app in waiting {
                // An offer at its limit is not considered for the apps after it (nor counted in their statistics).
                if tasks.count >= limit { break }
                var placedHere = 0
                var rejection: String?
                while pending[app.id, default: 0] > 0 && tasks.count < limit {
                    if let reason = Self.insufficiency(app, remaining: remaining) {
                        rejection = reason
                        break
                    }
                    guard let hostPorts = TaskFactory.hostPorts(for: app, available: ports) else {
                        rejection = "InsufficientPorts"
                        break
                    }
                    if !app.constraints.isEmpty {
                        if placedByApp[app.id] == nil {
                            placedByApp[app.id] = ConstraintTally(
                                constraints: app.constraints,
                                placed: self.instances(ofApp: app.id).filter { !$0.state.isTerminal }
                                    .compactMap { self.placements[$0.id] })
                        }
                        guard placedByApp[app.id]!.matches(placement)
                        else {
                            rejection = "UnfulfilledConstraint"
                            break
                        }
                    }
                    let ids = Instance.makeIDs(appId: app.id, uuid: makeUUID())
                    let role = offer.allocationInfo?.role ?? "*"
                    let task = TaskFactory.makeTask(
                        app: app, taskID: ids.task, offer: offer, hostPorts: hostPorts, role: role,
                        resources: remaining)
                    remaining -= task.resources
                    if !hostPorts.isEmpty { ports = ports.subtracting(RangeSet(values: hostPorts.map(UInt64.init))) }
                    let instance = Instance(
                        id: ids.instance, appId: app.id, version: app.configVersion, taskId: ids.task,
                        agentId: offer.agentId, host: offer.hostname, ports: hostPorts, stagedAt: timestamp)
                    self.insert(instance)
                    self.placements[instance.id] = placement
                    if !app.constraints.isEmpty { placedByApp[app.id]!.add(placement) }
                    tasks.append(task)
                    planned.append(instance)
                    pending[app.id, default: 0] -= 1
                    placedHere += 1
                }
                if pending[app.id, default: 0] == 0 { filled = true }
                self.record(app.id, placed: placedHere, rejection: placedHere > 0 ? nil : rejection, timestamp: timestamp)
            }
            budget -= tasks.count
            if filled { waiting.removeAll { pending[$0.id, default: 0] == 0 } }
            if tasks.isEmpty {
                unused.append(offer.id)
            } else {
                launches.append(PlannedLaunch(offer: offer, tasks: tasks, instances: planned))
            }
        }
        return (launches, unused)
    }

    /// Which resource an offer lacks for one instance of `app`, as Marathon names the reasons.
    static func insufficiency(_ app: AppDefinition, remaining: Resources) -> String? {
        if remaining.scalar("cpus") < Scalar(app.cpus) { return "InsufficientCpus" }
        if remaining.scalar("mem") < Scalar(app.mem) { return "InsufficientMemory" }
        if app.disk > 0 && remaining.scalar("disk") < Scalar(app.disk) { return "InsufficientDisk" }
        if app.gpus > 0 && remaining.scalar("gpus") < Scalar(app.gpus) { return "InsufficientGpus" }
        return nil
    }

    private mutating func record(_ appId: String, placed: Int, rejection: String?, timestamp: String) {
        // Changed in place: copying the statistics out and back would copy its `rejections` per offer and app.
        self.offerStatistics[appId, default: OfferStatistics()].processedOffersCount += 1
        if placed > 0 {
            self.offerStatistics[appId]!.lastUsedOfferAt = timestamp
            self.constraintStalls[appId] = 0
        } else {
            self.offerStatistics[appId]!.unusedOffersCount += 1
            self.offerStatistics[appId]!.lastUnusedOfferAt = timestamp
            if let rejection {
                self.offerStatistics[appId]!.rejections[rejection, default: 0] += 1
                if rejection == "UnfulfilledConstraint" {
                    self.constraintStalls[appId, default: 0] += 1
                } else {
                    self.constraintStalls[appId] = 0
                }
            }
        }
    }

    /// Puts back an instance as it was (a status update whose write failed is undone, to be redelivered).
    public mutating func restore(_ instance: Instance) {
        self.insert(instance)
    }

    /// Forgets instances whose launch could not be persisted or accepted.
    public mutating func rollback(_ instances: [Instance]) {
        for instance in instances { self.remove(instance.id) }
    }

    // MARK: - Status updates

    /// Applies a status update from the master.
    public mutating func update(_ status: TaskStatus, now: Duration, timestamp: String) -> UpdateOutcome {
        guard var instance = self.instance(forTask: status.taskId) else {
            return UpdateOutcome(save: nil, delete: nil, killUnknown: !status.state.isTerminal)
        }
        let previous = instance
        instance.state = status.state
        if status.state == .unreachable {
            if self.unreachableSince[instance.id] == nil { self.unreachableSince[instance.id] = now }
        } else {
            self.unreachableSince[instance.id] = nil
        }
        if let agent = status.agentId { instance.agentId = agent }
        if status.state == .running && instance.startedAt == nil { instance.startedAt = timestamp }
        if let healthy = status.healthy { instance.healthy = healthy }
        instance.message = status.message ?? instance.message
        // TASK_UNKNOWN: the master has no record of the task (e.g. after a restart): it is gone, replace it.
        if status.state.isTerminal || status.state == .unknown {
            self.remove(instance.id)
            if let app = self.apps[instance.appId], !instance.killRequested,
                status.state == .failed || status.state == .finished || status.state == .error
            {
                let next = self.delays[app.id].map { min($0.seconds * app.backoffFactor, app.maxLaunchDelaySeconds) }
                    ?? app.backoffSeconds
                self.delays[app.id] = LaunchDelay(
                    seconds: next, until: now + Saturating.duration(seconds: next))
            }
            if status.state != .killed && status.state != .finished {
                self.lastTaskFailures[instance.appId] = TaskFailure(
                    appId: instance.appId, host: instance.host ?? "", message: status.message ?? "",
                    state: status.state.rawValue, taskId: status.taskId.value, timestamp: timestamp,
                    version: instance.version, slaveId: instance.agentId?.value)
            }
            return UpdateOutcome(save: nil, delete: instance, killUnknown: false)
        }
        self.put(instance)
        return UpdateOutcome(save: instance == previous ? nil : instance, delete: nil, killUnknown: false)
    }
}

extension Array {
    subscript(safe index: Int) -> Element? {
        self.indices.contains(index) ? self[index] : nil
    }
}
