// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import RegattaTestKit
import Testing

/// The scheduler's per-app tallies (used so a status update does not walk every instance) give the same
/// pending counts, kills and finished deployments as walking the instances.
@Suite struct SchedulerStateTalliesTests {
    /// `pendingCount` computed by walking the app's instances (the definition the tallies must match).
    static func walkedPendingCount(_ state: SchedulerState, _ app: AppDefinition, now: Duration) -> Int {
        let current = state.activeCurrent(app, now: now).count
        let old = state.instances(ofApp: app.id).filter { $0.isActive && $0.version != app.configVersion }
        guard !old.isEmpty else { return max(0, app.instances - current) }
        var capacity = Int((Double(app.instances) * (1 + app.upgradeStrategy.maximumOverCapacity)).rounded(.down))
        let minHealthy = Int((Double(app.instances) * app.upgradeStrategy.minimumHealthCapacity).rounded(.up))
        if minHealthy == capacity && capacity <= old.filter({ $0.state == .running }).count { capacity += 1 }
        return max(0, min(app.instances - current, max(0, capacity - old.count - current)))
    }

    /// Whether a deployment of `app` is finished, by walking its instances.
    static func walkedFinished(_ state: SchedulerState, _ app: AppDefinition) -> Bool {
        let instances = state.instances(ofApp: app.id)
        let ready = instances.filter { $0.version == app.configVersion && $0.isActive && state.isReady($0, app: app) }
        let others = instances.filter { !($0.version == app.configVersion && $0.isActive) }
        return ready.count == app.instances && others.isEmpty
    }

    @Test func talliesMatchWalkingTheInstancesThroughARandomLifecycle() {
        // Several walks, so the lifecycle reaches finished deployments whatever one seed's sequence does.
        let finishedDeployments = [42, 7, 2024].map { Self.walk(seed: $0) }.reduce(0, +)
        #expect(finishedDeployments > 0, "the random lifecycles reach a finished deployment at least once")
    }

    /// One random lifecycle; checks the tallies at every step and returns how many deployments finished.
    private static func walk(seed: UInt64) -> Int {
        var generator = SeededGenerator(seed: seed)
        var state = SchedulerState()
        var stamp = 0
        var uuid = 0
        func timestamp() -> String {
            stamp += 1
            return String(format: "2027-01-01T00:%02d:%02d.000Z", (stamp / 60) % 60, stamp % 60)
        }
        var now = Duration.zero
        var app = Fixture.app(id: "/web", instances: 12, cpus: 0.1, memMB: 16)
        app.healthChecks = [AppHealthCheck(protocol: "HTTP")]
        app.unreachableStrategy.inactiveAfterSeconds = 5
        var deploymentNumber = 0
        func deploy(_ definition: AppDefinition, restart: Bool) -> AppDefinition {
            let (prepared, action) = state.prepare(definition, timestamp: timestamp(), restart: restart)
            deploymentNumber += 1
            state.commit(
                prepared,
                deployment: Deployment(
                    id: "d\(deploymentNumber)",
                    appId: prepared.id,
                    version: prepared.version!,
                    action: action
                )
            )
            return prepared
        }
        app = deploy(app, restart: false)
        var finishedDeployments = 0
        for step in 0..<400 {
            now += .seconds(1)
            switch generator.next() % 10 {
            case 0, 1, 2:
                _ = state.match(
                    offers: [Fixture.offer("o\(step)", cpus: 1, memMB: 256)],
                    now: now,
                    timestamp: timestamp()
                ) {
                    uuid += 1
                    return "u\(uuid)"
                }
            case 3 where step % 50 == 3:
                app = deploy(app, restart: true)
            case 4 where step % 40 == 4:
                app.instances = Int(generator.next() % 16)
                app = deploy(app, restart: false)
            default:
                let instances = state.instances(ofApp: app.id)
                guard !instances.isEmpty else { break }
                let instance = instances[Int(generator.next() % UInt64(instances.count))]
                let states: [TaskState] = [.running, .running, .running, .unreachable, .failed, .killed, .starting]
                let next = states[Int(generator.next() % UInt64(states.count))]
                let healthy: Bool? = next == .running ? generator.next() % 3 != 0 : nil
                _ = state.update(
                    TaskStatus(taskId: instance.taskId, state: next, healthy: healthy),
                    now: now,
                    timestamp: timestamp()
                )
            }
            #expect(
                state.pendingCount(app, now: now) == Self.walkedPendingCount(state, app, now: now),
                "seed \(seed) step \(step)"
            )
            let shouldFinish = !state.deployments(ofApp: app.id).isEmpty && Self.walkedFinished(state, app)
            let finished = state.completeDeployments()
            #expect(!finished.isEmpty == shouldFinish, "seed \(seed) step \(step)")
            finishedDeployments += finished.count
            let killed = state.computeKills(now: now)
            let allMarked = killed.allSatisfy { $0.killRequested }
            #expect(allMarked)
            #expect(
                state.pendingCount(app, now: now) == Self.walkedPendingCount(state, app, now: now),
                "after kills, seed \(seed) step \(step)"
            )
        }
        return finishedDeployments
    }
}
