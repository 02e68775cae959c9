// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// API commands: each is decided, written, and answered once written (and once the calls it queued are sent).
/// A failed write changes nothing and fails the call.
extension SchedulerState {
    /// An app (new, changed, scaled or rolled back) whose write with its deployment is in flight.
    struct AppWrite: Sendable {
        /// What the change is for, which decides what follows and the answer.
        enum Purpose: Sendable {
            /// `POST`/`PUT /v2/apps`, restart: answered with the app and its deployment.
            case answer(created: Bool)
            /// A cancelled deployment rolled back: answered with the new deployment.
            case rollback
            /// Kill these instances of the app, which was scaled down for them.
            case scaleDown(killing: [String])
        }

        var app: AppDefinition
        var deployment: Deployment
        /// The app's deployments in progress, replaced in the same write.
        var superseded: [Deployment]
        var changes: DeploymentChanges
        var purpose: Purpose
    }

    /// An app whose removal is being written.
    struct AppRemoval: Sendable {
        var appId: String
        /// The `StopApplication` deployment (kept only while something is left to kill).
        var stop: Deployment
        /// The app's deployments in progress, deleted in the same write.
        var existing: [String]
        var changes: DeploymentChanges
        /// Instances whose queued launches were withdrawn and which were forgotten (the write drops their records).
        var withdrawn: [String]
    }

    /// Starts the work of an API command.
    mutating func commandReceived(_ id: CommandID, _ command: Command, now: Now, _ actions: inout [Action]) {
        let operation = self.operation(answering: id)
        switch command {
        case .createApp(let app):
            guard self.apps[app.id] == nil else {
                self.fail(operation, SchedulerError(.appExists, "An app with id [\(app.id)] already exists."), &actions)
                return
            }
            self.apply(app, restart: false, purpose: .answer(created: true), operation, now: now, &actions)
        case .putApp(let app, let force):
            let created = self.apps[app.id] == nil
            if !created, let locked = self.lockError(app.id, force: force) {
                self.fail(operation, locked, &actions)
                return
            }
            self.apply(app, restart: false, purpose: .answer(created: created), operation, now: now, &actions)
        case .restartApp(let appId, let force):
            guard let app = self.apps[appId] else { return self.fail(operation, Self.notFound(appId), &actions) }
            if let locked = self.lockError(appId, force: force) { return self.fail(operation, locked, &actions) }
            self.apply(app, restart: true, purpose: .answer(created: false), operation, now: now, &actions)
        case .deleteApp(let appId, let force):
            guard self.apps[appId] != nil else { return self.fail(operation, Self.notFound(appId), &actions) }
            if let locked = self.lockError(appId, force: force) { return self.fail(operation, locked, &actions) }
            self.startRemoval(appId, operation, now: now, &actions)
        case .killTasks(let appId, let taskIDs, let host, let scale, let force):
            self.killTasks(
                appId,
                taskIDs: taskIDs,
                host: host,
                scale: scale,
                force: force,
                operation,
                now: now,
                &actions
            )
        case .resetDelay(let appId):
            guard self.apps[appId] != nil else { return self.fail(operation, Self.notFound(appId), &actions) }
            self.resetDelay(appId)
            self.afterChange(operation, now: now, &actions)
        case .cancelDeployment(let deploymentID, let force, let previous):
            self.cancelDeployment(deploymentID, force: force, previous: previous, operation, now: now, &actions)
        case .healthResultsChanged(let instanceId, let results):
            self.healthResultsChanged(instanceId: instanceId, results: results, operation, now: now, &actions)
        case .killUnhealthy(let instanceId, let check, let reason):
            self.killUnhealthy(instanceId: instanceId, check: check, reason: reason, operation, now: now, &actions)
        }
    }

    // MARK: - Storing an app

    /// Stores an app with its deployment (replacing the app's deployments in progress) in one write; the state
    /// records both once it is written.
    mutating func apply(
        _ app: AppDefinition,
        restart: Bool,
        purpose: AppWrite.Purpose,
        _ operation: Operation,
        now: Now,
        _ actions: inout [Action]
    ) {
        let (prepared, action) = self.prepare(app, timestamp: self.timestamp(now), restart: restart)
        let deployment = Deployment(
            id: self.ids.next(),
            appId: prepared.id,
            version: prepared.version ?? "",
            action: action
        )
        let superseded = self.deployments(ofApp: prepared.id)
        // The plan is stored with the app, before it runs, so a restarted scheduler resumes it.
        let changes = DeploymentChanges(upserts: [deployment], deletes: superseded.map(\.id))
        let write = AppWrite(
            app: prepared,
            deployment: deployment,
            superseded: superseded,
            changes: changes,
            purpose: purpose
        )
        self.persist([.saveApp(prepared, changes)], then: .app(write, operation), &actions)
    }

    /// Records a written app and its deployment, then acts on it.
    mutating func appWritten(
        _ write: AppWrite,
        _ outcome: WriteOutcome,
        _ operation: Operation,
        now: Now,
        _ actions: inout [Action]
    ) {
        if case .failed(let failure) = outcome { return self.fail(operation, Self.storeError(failure), &actions) }
        var operation = operation
        self.persistence.recordSaved(write.changes)
        for superseded in write.superseded { actions.append(.publish(.deploymentFailed(superseded))) }
        self.commit(write.app, deployment: write.deployment)
        actions.append(.publish(.deploymentInfo(write.deployment)))
        actions.append(
            .log(
                LogRecord(
                    .info,
                    "App stored",
                    [
                        "app.id": "\(write.app.id)", "app.version": "\(write.app.version ?? "")",
                        "action": "\(write.deployment.action)", "instances": "\(write.app.instances)",
                    ]
                )
            )
        )
        switch write.purpose {
        case .answer(let created):
            operation.result = .app(write.app, write.deployment, created: created)
        case .rollback:
            operation.result = .deployment(write.deployment)
        case .scaleDown(let ids):
            // Marked before the kills the smaller app calls for are computed, so those are exactly these.
            let killed = self.requestKill(ids, scale: true)
            for instance in killed { self.persistence.instanceChanged(instance.id) }
            operation.kills += killed
            operation.result = .killed(killed, write.deployment)
        }
        self.afterChange(operation, now: now, &actions)
    }

    // MARK: - Removing an app

    /// Removes an app from the store and the state: its deployments in progress are replaced by a
    /// `StopApplication` deployment while it has instances to kill, in the same write.
    ///
    /// The write drops the records of the app's instances, so no ACCEPT may launch one of them after it: ACCEPTs
    /// still queued lose those launches first (the instances never ran and are forgotten), and while ACCEPTs launching
    /// them are being sent the removal waits for that batch, then starts over.
    mutating func startRemoval(_ appId: String, _ operation: Operation, now: Now, _ actions: inout [Action]) {
        let tasks = Set(self.unorderedInstances(ofApp: appId).map(\.taskId))
        if let sending = self.acceptBeingSent(launchingAnyOf: tasks) {
            self.pipeline.awaitedCalls = sending
            return
        }
        let withdrawnTasks = self.withdrawLaunches(of: tasks)
        var withdrawn: [String] = []
        for instance in self.instances(ofApp: appId) where withdrawnTasks.contains(instance.taskId) {
            self.remove(instance.id)
            // Deleted by the removal; should its write fail, by the next write instead.
            self.persistence.instanceChanged(instance.id)
            withdrawn.append(instance.id)
        }
        if !withdrawn.isEmpty {
            actions.append(
                .log(
                    LogRecord(
                        .info,
                        "Withdrew launches of a removed app",
                        ["app.id": "\(appId)", "count": "\(withdrawn.count)"]
                    )
                )
            )
        }
        let stop = Deployment(
            id: self.ids.next(),
            appId: appId,
            version: self.timestamp(now),
            action: "StopApplication"
        )
        let existing = self.deployments(ofApp: appId).map(\.id)
        // The state keeps the stop deployment only if something is left to kill (see `removeApp(_:deployment:)`).
        let killsSomething = self.instances(ofApp: appId).contains { !$0.killRequested }
        let changes = DeploymentChanges(upserts: killsSomething ? [stop] : [], deletes: existing)
        let removal = AppRemoval(
            appId: appId,
            stop: stop,
            existing: existing,
            changes: changes,
            withdrawn: withdrawn
        )
        self.persist([.deleteApp(appId, changes)], then: .appRemoval(removal, operation), &actions)
    }

    /// Removes a written app from the state and kills its instances.
    mutating func appRemovalWritten(
        _ removal: AppRemoval,
        _ outcome: WriteOutcome,
        _ operation: Operation,
        now: Now,
        _ actions: inout [Action]
    ) {
        if case .failed(let failure) = outcome { return self.fail(operation, Self.storeError(failure), &actions) }
        var operation = operation
        self.persistence.recordSaved(removal.changes)
        let kills = self.removeApp(removal.appId, deployment: removal.stop)
        // The store dropped the app's instances with it; they are not written back (nor deleted again).
        for instance in kills { self.persistence.dirtyInstances.remove(instance.id) }
        for id in removal.withdrawn { self.persistence.dirtyInstances.remove(id) }
        // Compared again on the next write, in case the state decided differently than predicted.
        for id in removal.existing + [removal.stop.id] { self.persistence.deploymentChanged(id) }
        operation.kills += kills
        operation.result = .deployment(removal.stop)
        actions.append(
            .log(LogRecord(.info, "App removed", ["app.id": "\(removal.appId)", "instances": "\(kills.count)"]))
        )
        self.afterChange(operation, now: now, &actions)
    }

    // MARK: - Killing tasks

    /// Kills tasks of an app; with `scale` the app's instance count shrinks (written first) so they are not replaced.
    private mutating func killTasks(
        _ appId: String,
        taskIDs: [TaskID]?,
        host: String?,
        scale: Bool,
        force: Bool,
        _ operation: Operation,
        now: Now,
        _ actions: inout [Action]
    ) {
        guard var app = self.apps[appId] else { return self.fail(operation, Self.notFound(appId), &actions) }
        var targets = self.instances(ofApp: appId).filter { !$0.killRequested }
        if let taskIDs {
            let wanted = Set(taskIDs)
            targets = targets.filter { wanted.contains($0.taskId) || wanted.contains(TaskID($0.id)) }
            if targets.isEmpty, let first = taskIDs.first {
                return self.fail(operation, SchedulerError(.taskNotFound, "Task '\(first)' does not exist"), &actions)
            }
        }
        if let host { targets = targets.filter { $0.host == host } }
        if scale && !targets.isEmpty {
            if let locked = self.lockError(appId, force: force) { return self.fail(operation, locked, &actions) }
            app.instances = max(0, app.instances - targets.count)
            self.apply(
                app,
                restart: false,
                purpose: .scaleDown(killing: targets.map(\.id)),
                operation,
                now: now,
                &actions
            )
            return
        }
        var operation = operation
        // Not marked: they are replaced once their tasks end.
        operation.kills = targets
        operation.result = .killed(targets, nil)
        self.complete(operation, now: now, &actions)
    }

    // MARK: - Checks

    /// The error for changing an app that a deployment holds, unless forced.
    func lockError(_ appId: String, force: Bool) -> SchedulerError? {
        let deployments = self.deployments(ofApp: appId)
        guard !force, let first = deployments.first else { return nil }
        return SchedulerError(
            .appLocked,
            "App is locked by one or more deployments. Override with the option '?force=true'. "
                + "View details at '/v2/deployments/\(first.id)'.",
            deploymentIDs: deployments.map(\.id)
        )
    }

    static func notFound(_ id: String) -> SchedulerError {
        SchedulerError(.appNotFound, "App '\(id)' does not exist")
    }
}
